"""Local stand-in for ansible-test's downloaded get-pip.py bootstrap script.

ansible-test bootstraps pip in each sanity virtualenv by running a get-pip script it downloads from its own
file host, which this project's machines cannot reach. It caches the script as
~/.ansible/test/cache/get_pip_<version>.py; `make sanity` puts this file there. It does what get-pip does:
install pip into the running interpreter (from Python's bundled ensurepip wheel), then install the packages
ansible-test asked for (e.g. pip==24.2) from PyPI with the options it passed.
"""
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
