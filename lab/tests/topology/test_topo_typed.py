"""The guide's own command lines, typed through the lab's PowerShell layer (binding against Microsoft's catalog,
pipelines) onto the topology-side cmdlets."""

from __future__ import annotations

import pytest


def test_guide_um_contact_pipeline(lab_at, admin_types):
    lab = lab_at(9)
    code, out, err = admin_types(lab, "lync-fe01.contoso.net",
                                 'Get-CsExUmContact -Filter {RegistrarPool -eq "pool01.contoso.net"} | '
                                 "Move-CsExUmContact -Target pool02.contoso.net -Confirm:$false")
    assert (code, err) == (0, "")
    code, out, err = admin_types(lab, "lync-fe01.contoso.net",
                                 "(Get-CsExUmContact -Identity sip:autoattendant@contoso.net).RegistrarPool")
    assert (code, out) == (0, "pool02.contoso.net\r\n")


def test_guide_conference_directory_pipeline(lab_at, admin_types):
    lab = lab_at(10)
    code, out, err = admin_types(lab, "lync-fe01.contoso.net",
                                 'Get-CsConferenceDirectory | Where-Object {$_.ServiceID -match "pool01.contoso.net"} '
                                 "| Move-CsConferenceDirectory -TargetPool pool02.contoso.net")
    assert (code, err) == (0, "")
    code, out, err = admin_types(lab, "lync-fe01.contoso.net", "(Get-CsConferenceDirectory -Identity 3).ServiceId")
    assert out == "UserServer:pool02.contoso.net\r\n"


def test_guide_rgs_and_pool_commands(lab_at, admin_types):
    lab = lab_at(9)
    code, out, err = admin_types(lab, "lync-fe01.contoso.net",
                                 "Move-CsRgsConfiguration -Source pool01.contoso.net -Destination pool02.contoso.net")
    assert (code, err) == (0, "")
    code, out, err = admin_types(lab, "lync-fe01.contoso.net", "(Get-CsRgsWorkflow).Name")
    assert out == "Help Desk\r\n"
    code, out, err = admin_types(lab, "lync-fe01.contoso.net",
                                 "(Get-CsPool -Identity pool02.contoso.net).Services -contains "
                                 "'ApplicationServer:pool02.contoso.net'")
    assert (code, out) == (0, "True\r\n"), err


def test_topology_xml_to_a_file_and_back(lab_at, admin_types):
    lab = lab_at(5)
    code, out, err = admin_types(lab, "lync-fe01.contoso.net", "Get-CsTopology -AsXml | Set-Content -Path topo.xml")
    assert (code, err) == (0, ""), err
    code, out, err = admin_types(lab, "lync-fe01.contoso.net", "Publish-CsTopology -FileName topo.xml")
    assert (code, err) == (0, "")
