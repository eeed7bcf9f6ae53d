"""lync_lab: a rehearsal OCS 2007 R2 + Lync Server 2013 deployment behind a real WinRM endpoint."""

__version__ = "0.1.0"
