# Sphinx configuration of the lync.migration docs site (make docs; mk/docs.mk).
# Started from `antsibull-docs sphinx-init --use-current --squash-hierarchy lync.migration` (antsibull-docs 2.28.0);
# changed so that the build reads nothing from a network and the user guide's Markdown pages (docs/*.md) join it.
project = "lync.migration"
copyright = "lync.migration maintainers"
title = "lync.migration documentation"
html_short_title = "lync.migration"

extensions = ["sphinx.ext.autodoc", "sphinx.ext.intersphinx", "sphinx_antsibull_ext", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}

pygments_style = "ansible"
highlight_language = "YAML+Jinja"

html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
display_version = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False

# The generated pages refer to a few labels of the Ansible docs. The build must not fetch docs.ansible.com's
# inventory, so it gets one of its own with just those labels (written next to the build, read as a local file);
# the links still point at docs.ansible.com.
ANSIBLE_DOCS = "https://docs.ansible.com/projects/ansible/devel/"
ANSIBLE_LABELS = {
    "common_return_values": ("reference_appendices/common_return_values.html#common-return-values",
                             "Return Values"),
    "ansible_configuration_settings": ("reference_appendices/config.html#ansible-configuration-settings",
                                       "Ansible Configuration Settings"),
    "callback_plugins": ("plugins/callback.html#callback-plugins", "Callback plugins"),
}


def _ansible_inventory():
    import atexit
    import os
    import tempfile
    import zlib

    lines = "".join("%s std:label -1 %s %s\n" % (name, uri, title) for name, (uri, title) in ANSIBLE_LABELS.items())
    header = b"# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n# The remainder of this file is compressed using zlib.\n"
    fd, path = tempfile.mkstemp(prefix="lync-migration-ansible-", suffix=".inv")
    with os.fdopen(fd, "wb") as handle:
        handle.write(header + zlib.compress(lines.encode("utf-8")))
    atexit.register(os.unlink, path)
    return path


intersphinx_mapping = {"ansible_devel": (ANSIBLE_DOCS, _ansible_inventory())}
intersphinx_disabled_reftypes = []
default_role = "any"
nitpicky = True

# The guide's headings are link targets (page.md#heading), as on GitHub.
myst_heading_anchors = 4


