import socket


from ansible_collections.lync.migration.plugins.action.lync import connection_args_from_host, merge_args

from playbook_runner import run_playbook

HOST_VARS = {
    "ansible_connection": "winrm",
    "ansible_host": "10.0.0.5",
    "ansible_port": "5985",
    "ansible_user": "CONTOSO\\lyncadmin",
    "ansible_password": "pw",
    "ansible_winrm_transport": "ntlm,kerberos",
    "ansible_winrm_scheme": "http",
    "ansible_winrm_server_cert_validation": "ignore",
    "ansible_winrm_ca_trust_path": "/etc/ca.pem",
    "ansible_winrm_operation_timeout_sec": "25",
    "ansible_winrm_read_timeout_sec": 35,
    "ansible_winrm_kerberos_delegation": "yes",
    "ansible_winrm_message_encryption": "always",
}


def test_host_winrm_variables_fill_the_connection_options():
    assert connection_args_from_host(HOST_VARS, "fe01") == {
        "server": "10.0.0.5", "port": 5985, "username": "CONTOSO\\lyncadmin", "password": "pw",
        "transport": "ntlm", "scheme": "http", "server_cert_validation": "ignore", "ca_trust_path": "/etc/ca.pem",
        "operation_timeout": 25, "read_timeout": 35, "kerberos_delegation": True, "message_encryption": "always"}


def test_inventory_name_is_the_server_without_ansible_host_and_non_winrm_hosts_lend_nothing():
    assert connection_args_from_host({"ansible_connection": "winrm"}, "fe01.contoso.net") == \
        {"server": "fe01.contoso.net"}
    assert connection_args_from_host({"ansible_connection": "local", "ansible_host": "127.0.0.1"}, "localhost") == {}


def test_task_arguments_win_over_host_variables():
    merged = merge_args({"server": "fe02", "transport": None, "identities": ["a"]},
                        {"server": "10.0.0.5", "transport": "ntlm"})
    assert merged == {"server": "fe02", "transport": "ntlm", "identities": ["a"]}


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SECRET = "Zq8-not-in-any-log-7Hx"


def test_module_task_reaches_the_host_from_inventory_and_never_shows_the_password(tmp_path):
    port = closed_port()
    inventory = """
all:
  hosts:
    fe01:
      ansible_host: 127.0.0.1
      ansible_port: %d
      ansible_connection: winrm
      ansible_shell_type: powershell
      ansible_user: CONTOSO\\lyncadmin
      ansible_password: %s
      ansible_winrm_scheme: http
""" % (port, SECRET)
    playbook = """
- hosts: fe01
  gather_facts: false
  tasks:
    - lync.migration.cs_pool_info:
      register: result
      ignore_errors: true
    - ansible.builtin.assert:
        that:
          - result.failed
          - "'during create' in result.msg"
          - "'port=%d' in result.msg and '127.0.0.1' in result.msg"
""" % port
    output = run_playbook(tmp_path, inventory, playbook, "-vvvv")
    assert "failed=0" in output, output[-3000:]
    assert SECRET not in output


def test_module_defaults_group_works_from_localhost(tmp_path):
    port = closed_port()
    playbook = """
- hosts: localhost
  gather_facts: false
  vars:
    # Not inline in module_defaults: Ansible's own error excerpt shows the playbook lines above a failed task.
    lync_password: %s
  module_defaults:
    group/lync.migration.lync:
      server: 127.0.0.1
      port: %d
      scheme: http
      username: CONTOSO\\lyncadmin
      password: "{{ lync_password }}"
  tasks:
    - lync.migration.cs_replication_info:
      register: result
      ignore_errors: true
    - ansible.builtin.assert:
        that:
          - result.failed
          - "'port=%d' in result.msg and '127.0.0.1' in result.msg"
    - lync.migration.cs_user_move:
        identities: ["David Pelton"]
        target_pool: pool02.contoso.net
        transport: basic
      register: refused
      ignore_errors: true
    - ansible.builtin.assert:
        that:
          - "'allow_basic_over_http' in refused.msg"
""" % (SECRET, port, port)
    output = run_playbook(tmp_path, "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n", playbook,
                          "-vvvv")
    assert "failed=0" in output, output[-3000:]
    assert SECRET not in output
