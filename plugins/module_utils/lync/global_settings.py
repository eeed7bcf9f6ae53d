# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Get-/Set- of one Lync configuration object (AccessEdgeConfiguration, WebServiceConfiguration...): read it,
change only the settings that differ, read it back."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .module import as_bool


def converter(kind):
    if kind == "bool":
        return as_bool
    if kind == "int":
        return lambda v: None if v is None else int(v)
    return lambda v: None if v is None else str(v)


def ensure_settings(module, noun, settings, identity="Global"):
    """settings: {option: (LyncProperty, "bool"|"int"|"str")}; the module's options of those names that are not
    None are the wanted values. Returns the exit dictionary."""
    wanted = dict((o, module.params[o]) for o in settings if module.params.get(o) is not None)
    props = [prop for prop, _kind in settings.values()]
    current = module.call_or_fail("Get-Cs" + noun, {"Identity": identity}, select=["Identity"] + props)
    if not current:
        module.fail_json(msg="Get-Cs%s -Identity %s returned nothing" % (noun, identity))
    before = dict((o, converter(kind)(current[0].get(prop))) for o, (prop, kind) in settings.items())
    changes = dict((o, v) for o, v in wanted.items() if before.get(o) != v)
    after = dict(before)
    after.update(changes)
    cmdlet = None
    if changes:
        args = {"Identity": identity}
        args.update(dict((settings[o][0], v) for o, v in changes.items()))
        cmdlet = "Set-Cs%s %s" % (noun, " ".join("-%s %s" % (k, v) for k, v in sorted(args.items())))
        if not module.check_mode:
            module.call_or_fail("Set-Cs" + noun, args)
            read = module.call_or_fail("Get-Cs" + noun, {"Identity": identity}, select=props)
            after = dict((o, converter(kind)(read[0].get(prop))) for o, (prop, kind) in settings.items())
            wrong = [o for o, v in changes.items() if after.get(o) != v]
            if wrong:
                module.fail_json(msg="Set-Cs%s ran but %s did not take the new value" % (noun, ", ".join(wrong)),
                                 settings=after)
    out = dict(changed=bool(changes), settings=after, cmdlet=cmdlet)
    if module._diff:
        out["diff"] = {"before": before, "after": after}
    return out
