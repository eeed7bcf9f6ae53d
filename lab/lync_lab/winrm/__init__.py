"""The lab's WS-Management (WinRM) endpoint: listener, authentication, message encryption and WinRS shells."""
