"""Values that travel between the PowerShell layers and need more than a plain Python type."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ScriptBlock:
    """A `{ ... }` argument. PowerShell converts it to a string as its inner text, unchanged."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class PSCredential:
    """A credential object; the password never shows in repr, str, logs or audit records."""

    username: str
    password: str = field(repr=False)

    def __str__(self) -> str:
        return "System.Management.Automation.PSCredential"


@dataclass(frozen=True)
class EnumValue:
    """A .NET enumeration value a cmdlet returns (e.g. Get-CsAdForest's LcForestSettingsState).

    PowerShell shows and converts it ([string], interpolation, Format-*) by its name; ConvertTo-Json on
    Windows PowerShell 3.0-5.1 writes its underlying integer (there is no -EnumsAsStrings before 6.2).
    """

    type_name: str     # the .NET full name, e.g. Microsoft.Rtc.Management.Deployment.LcForestSettingsState
    name: str
    value: int

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class XElementValue:
    """A System.Xml.Linq.XElement (Get-CsTopology -AsXml; Publish-CsTopology -Document takes one).

    Not a string: `$x -is [string]` is false and its PSObject.Properties are XElement's members (FirstAttribute,
    HasElements, Name, Value, ...); `[string]$x` and `.ToString()` give the XML text, indented.
    """

    text: str
    type_name = "System.Xml.Linq.XElement"

    @classmethod
    def of_document(cls, document: str) -> "XElementValue":
        """The root element of an XML document's text: XNode.ToString gives the element's indented XML and an
        element carries no XML declaration (dotnet-api-docs System.Xml.Linq XNode.ToString, XDeclaration)."""
        text = document.lstrip("\ufeff").lstrip()
        if text.startswith("<?xml"):
            text = text[text.index("?>") + 2:].lstrip()
        return cls(text.rstrip())

    def __str__(self) -> str:
        return self.text


class PSObject(dict):
    """An object with properties (what cmdlets emit): a dict in the property order PowerShell shows.

    Distinguished from a hashtable, which PowerShell formats and binds differently.
    """


class Hashtable(dict):
    """A PowerShell hashtable (`@{...}` or a nested JSON object in an envelope request): keys are case-insensitive."""

    def get_ci(self, key: str, default=None):
        for k, v in self.items():
            if str(k).lower() == key.lower():
                return v
        return default


def to_ps_string(value) -> str:
    """PowerShell's string conversion of a value (what [string]$x or string interpolation gives)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, (list, tuple)):
        return " ".join(to_ps_string(v) for v in value)
    if isinstance(value, Hashtable):
        return "System.Collections.Hashtable"
    if isinstance(value, dict):
        return "@{" + "; ".join(f"{k}={to_ps_string(v)}" for k, v in value.items()) + "}"
    return str(value)


def get_property(obj, name: str):
    """Member access `$obj.Name`: case-insensitive; on a collection, the values of its items (PowerShell 3.0)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if str(k).lower() == name.lower():
                return v
        if name.lower() == "count" and isinstance(obj, Hashtable):
            return len(obj)
        return None
    if isinstance(obj, (list, tuple)):
        if name.lower() in ("count", "length"):
            return len(obj)
        values = [get_property(item, name) for item in obj]
        return [v for v in values if v is not None]
    if isinstance(obj, str) and name.lower() == "length":
        return len(obj)
    if obj is not None and name.lower() == "count":
        return 1
    return None


def has_property(obj, name: str) -> bool:
    return isinstance(obj, dict) and any(str(k).lower() == name.lower() for k in obj)
