"""What a host's .NET Framework gives the objects cmdlets return (lync_lab.hosts: HostProfile.dotnet)."""

from dataclasses import replace

from model_shell import Shell

from lync_lab.hosts import HostSpec, build_host


def test_get_service_objects_have_no_start_type_before_dotnet_4_6_1(make_lab):
    """Get-Service returns System.ServiceProcess.ServiceController objects; their StartType property exists from
    .NET Framework 4.6.1 (Microsoft's .NET Framework 4.6 -> 4.6.1 API diff; dotnet-api-docs ServiceController.
    StartType: applies to .NET Framework 4.6.1 and later). Lync Server 2013 hosts have .NET 4.5 (lync-server-2013-
    additional-software-requirements.md), OCS 2007 R2 hosts .NET 3.5 SP1: none of them has it."""
    lab = make_lab(4)
    fe = Shell(lab, "lync-fe01.contoso.net")
    assert fe.ctx.server.host.dotnet == "4.5"
    [svc] = fe("Get-Service", Name="RTCSRV")
    assert "StartType" not in svc and svc["Status"] == "Running"
    [passed] = fe("Set-Service", Name="RTCSRV", StartupType="Manual", PassThru=True)
    assert "StartType" not in passed
    ocs = Shell(lab, "ocs-fe01.contoso.net")
    assert "StartType" not in ocs("Get-Service", Name="RTCSRV")[0]
    # A host patched to .NET 4.6.1 reports it.
    patched = build_host(HostSpec(os="2012r2", dotnet="4.6.1"))
    fe.ctx.server = replace(fe.ctx.server, host=patched)
    assert fe("Get-Service", Name="RTCSRV")[0]["StartType"] == "Manual"
