"""The connection options are written once (connection.CONNECTION_OPTIONS): the modules' argument spec,
ConnectionOptions' defaults and the action plugin's host-variable map come from it, and the doc fragment users
read says the same."""

import yaml

from ansible_collections.lync.migration.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.lync.migration.plugins.module_utils.lync.connection import (
    CONNECTION_ARGUMENT_SPEC,
    CONNECTION_OPTIONS,
    ConnectionOptionError,
    ConnectionOptions,
)


def test_the_doc_fragment_documents_every_connection_option_as_the_spec_defines_it():
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert sorted(documented) == sorted(CONNECTION_ARGUMENT_SPEC)
    for name, spec in CONNECTION_ARGUMENT_SPEC.items():
        doc = documented[name]
        assert doc.get("type", "str") == spec["type"], name
        assert doc.get("default") == spec.get("default"), name
        assert doc.get("choices") == spec.get("choices"), name


def test_every_inventory_variable_the_doc_fragment_names_is_the_one_the_action_plugin_reads():
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    for name, _spec, hostvars in CONNECTION_OPTIONS:
        text = " ".join(documented[name]["description"]) if isinstance(documented[name]["description"], list) \
            else documented[name]["description"]
        for var in hostvars[:1]:   # the first variable is the one users set; the doc names it
            assert "C(%s)" % var in text, (name, var)


def test_unset_options_take_the_specs_defaults_and_unknown_ones_are_refused():
    options = ConnectionOptions(server="fe01", username="u", password="p")
    for name, spec, _hostvars in CONNECTION_OPTIONS:
        if "default" in spec:
            assert getattr(options, name) == spec["default"], name
    assert options.port == 5986
    try:
        ConnectionOptions(server="fe01", username="u", password="p", retries=2)
    except TypeError as exc:
        assert "retries" in str(exc)
    else:
        raise AssertionError("an unknown option was accepted")


def test_a_value_outside_the_specs_choices_is_refused_naming_the_option():
    for name, spec, _hostvars in CONNECTION_OPTIONS:
        if not spec.get("choices"):
            continue
        try:
            ConnectionOptions(server="fe01", username="u", password="p", **{name: "bogus"})
        except ConnectionOptionError as exc:
            assert exc.option == name and "bogus" in str(exc) and spec["choices"][0] in str(exc)
        else:
            raise AssertionError("%s=bogus was accepted" % name)
