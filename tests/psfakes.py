"""Fake Lync/SfB Management Shell and AD FS cmdlets for tests/psmini.py: an in-memory
configuration store the generated change and rollback scripts read and change.

The fakes keep to what the real cmdlets do where the scripts depend on it: `Get-*` of a missing
identity is an error (which `-ErrorAction SilentlyContinue` turns into no output), `New-*` of an
existing one and `Set-*` / `Remove-*` of a missing one are errors, every changing cmdlet honours
`-WhatIf` (or the caller's `$WhatIfPreference`), and an unknown parameter is an error. `fail`
makes one changing call fail, to simulate a run that stops half-way.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.psmini import (
    BUILTINS,
    Builtin,
    CIDict,
    DotNetObject,
    EnumType,
    Interpreter,
    PSError,
    PSObject,
    Unsupported,
    ps_str,
)

_COMMON = {"identity", "whatif", "confirm", "erroraction", "force", "warningaction"}

WEB_DEFAULTS = {
    "UseWsFedPassiveAuth": False, "WsFedPassiveMetadataUri": None, "UseWindowsAuth": "Negotiate",
    "UseCertificateAuth": True, "UsePinAuth": True, "DefaultValidityPeriodHours": 4320,
    "MinValidityPeriodHours": 8, "MaxValidityPeriodHours": 8760, "AllowExternalAuthentication": True,
    "CASigningKeyLength": 2048, "MinCSRKeySize": 1024, "MaxCSRKeySize": 16384, "UseDomainAuthInLWA": True,
    "MobilePreferredAuthType": "None", "AllowAnonymousAccessToLWAConference": True, "AutoLaunchLyncWebAccess": False,
    "EnableCertChainDownload": True, "EnableGroupExpansion": True, "InferCertChainFromSSL": False,
    "MaxGroupSizeToExpand": 100, "ShowAlternateJoinOptionsExpanded": False, "ShowDownloadCommunicatorAttendeeLink": True,
    "ShowJoinUsingLegacyClientLink": False, "OverrideAuthTypeForExternalClients": None,
    "OverrideAuthTypeForInternalClients": None,
}
PROXY_DEFAULTS = {
    "UseKerberosForClientToProxyAuth": True, "UseNtlmForClientToProxyAuth": True,
    "UseCertificateForClientToProxyAuth": True, "TreatAllClientsAsRemote": False, "AcceptClientCompression": True,
    "AcceptServerCompression": True, "AllowPartnerPollingSubscribes": False, "DnsCacheRecordCount": 100,
    "EnableLoggingAllMessageBodies": False, "EnableWhiteSpaceKeepAlive": False, "LoadBalanceEdgeServers": True,
    "LoadBalanceInternalServers": True, "MaxClientCompressionCount": 400, "MaxClientMessageBodySizeKb": 128,
    "MaxKeepAliveInterval": 120, "MaxServerCompressionCount": 400, "MaxServerMessageBodySizeKb": 5120,
    "OutgoingTlsCount": 4, "RequestServerCompression": True,
}
MOBILITY_DEFAULTS = {
    "EnableMobility": True, "EnableOutsideVoice": True, "EnableIPAudioVideo": True, "RequireWIFIForIPAudio": False,
    "RequireWIFIForIPVideo": False, "RequireWiFiForSharing": False, "AllowSaveCredentials": True,
    "AllowExchangeConnectivity": True, "AllowSaveIMHistory": True, "AllowSaveCallLogs": True,
    "AllowCustomerExperienceImprovementProgram": True,
}
TRUST_DEFAULTS = {
    "MetadataUrl": None, "AccessControlPolicyName": None, "AccessControlPolicyParameters": None,
    "IssuanceAuthorizationRules": "", "IssuanceTransformRules": "", "AdditionalAuthenticationRules": "",
    "Identifier": None, "Enabled": True,
}
OAUTH_SERVER_DEFAULTS = {
    "MetadataUrl": None, "Type": None, "AcceptSecurityIdentifierInformation": False, "Realm": None,
    "AuthorizationUriOverride": None,
}
OAUTH_CONFIGURATION_DEFAULTS = {
    "ClientAuthorizationOAuthServerIdentity": None, "ExchangeAutodiscoverUrl": None, "Realm": None,
}
# The AuthConfigScenario enumeration as the module has it: one value misspelled ("Externaly").
AUTH_SCENARIOS = ("Custom", "AllowAllExternallyAndInternally", "BlockWindowsAuthExternally",
                  "BlockWindowsAuthExternallyAndInternally", "BlockWindowsAuthExternalyAndModernAuthInternally",
                  "BlockModernAuthInternally")
VERSION_TEXTS = {
    "Lync": "Lync Server 2013 (5.0.8308.0): Volume license key installed.",
    "sfb2015": "Skype for Business Server 2015 (6.0.9319.0): Volume license key installed.",
    "sfb2019": "Skype for Business Server 2019 (7.0.2046.0): Volume license key installed.",
}


def web_client(metadata: dict[str, str]) -> Builtin:
    """New-Object: a System.Net.WebClient whose DownloadString serves `metadata` (URL -> entityID) as federation
    metadata, and every other New-Object as psmini does it."""

    class WebClient(DotNetObject):
        def ps_call(self, name: str, args: list[Any]) -> Any:
            if name.lower() == "downloadstring":
                url = ps_str(args[0])
                if url not in metadata:
                    raise PSError(f"The remote server returned an error: (404) Not Found. {url}")
                return (f'<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" '
                        f'entityID="{metadata[url]}"/>')
            if name.lower() == "dispose":
                return None
            return super().ps_call(name, args)

    def new_object(interp: Interpreter, named: CIDict, pos: list[Any], data: Any) -> list[Any]:
        if ps_str(named.get("TypeName")).lower() == "system.net.webclient":
            return [WebClient()]
        return BUILTINS["New-Object"].run(interp, named, pos, data)

    return Builtin(new_object)


@dataclass
class _Collection:
    """One kind of configuration object: identity -> property values."""

    noun: str
    defaults: dict[str, Any]
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    permanent: frozenset[str] = frozenset()

    def key(self, identity: str) -> str | None:
        for k in self.items:
            if k.lower() == identity.lower():
                return k
        return None


class FakeStore:
    """The configuration a set of fake cmdlets works on, and the cmdlets themselves."""

    def __init__(self) -> None:
        self.collections: dict[str, _Collection] = {}
        self.calls: list[tuple[str, str, bool]] = []     # (cmdlet, identity, whatif)
        self.parameters: list[tuple[str, str, frozenset[str]]] = []   # (cmdlet, identity, parameter names)
        self.fail: Callable[[str, str], bool] = lambda cmdlet, identity: False
        # (cmdlet, parameter) pairs this version of the cmdlets lacks: the cmdlet refuses them.
        self.missing_parameters: set[tuple[str, str]] = set()

    def state(self) -> dict[str, dict[str, dict[str, Any]]]:
        """A deep copy of every object, for comparing before and after."""
        return {noun: copy.deepcopy(c.items) for noun, c in self.collections.items()}

    def _collection(self, noun: str) -> _Collection:
        return self.collections[noun]

    def _changing(self, cmdlet: str, identity: str, interp: Interpreter, named: CIDict) -> bool:
        whatif = interp.whatif(named)
        self.calls.append((cmdlet, identity, whatif))
        self.parameters.append((cmdlet, identity, frozenset(named.keys())))
        if not whatif and self.fail(cmdlet, identity):
            raise PSError(f"{cmdlet} {identity}: simulated failure")
        return whatif

    def _values(self, coll: _Collection, named: CIDict, cmdlet: str, extra: set[str] = frozenset()) -> dict[str, Any]:
        out = {}
        known = {k.lower(): k for k in coll.defaults}
        for key, value in named.items():
            if key.lower() in _COMMON or key.lower() in extra:
                continue
            if key.lower() not in known or (cmdlet, known[key.lower()]) in self.missing_parameters:
                raise PSError(f"{cmdlet}: A parameter cannot be found that matches parameter name '{key}'.")
            out[known[key.lower()]] = value
        return out

    def getter(self, noun: str, id_param: str = "Identity") -> Builtin:
        def run(interp: Interpreter, named: CIDict, pos: list[Any], data: Any) -> list[Any]:
            coll = self._collection(noun)
            if id_param not in named and not pos:
                # Without an identity the real cmdlets list every collection.
                return [PSObject([(id_param, key), *values.items()]) for key, values in coll.items.items()]
            identity = ps_str(named.get(id_param))
            key = coll.key(identity)
            if key is None:
                raise PSError(f"Cannot get {noun} \"{identity}\" because it does not exist.")
            return [PSObject([(id_param if id_param != "Identity" else "Identity", key), *coll.items[key].items()])]
        return Builtin(run)

    def creator(self, cmdlet: str, noun: str, id_param: str = "Identity") -> Builtin:
        def run(interp: Interpreter, named: CIDict, pos: list[Any], data: Any) -> list[Any]:
            coll = self._collection(noun)
            identity = ps_str(named.get(id_param))
            values = self._values(coll, named, cmdlet, {id_param.lower()})
            if coll.key(identity) is not None:
                raise PSError(f"{cmdlet}: {identity} already exists.")
            if self._changing(cmdlet, identity, interp, named):
                return []
            coll.items[identity] = {**coll.defaults, **values}
            return []
        return Builtin(run)

    def setter(self, cmdlet: str, noun: str, id_param: str = "Identity") -> Builtin:
        def run(interp: Interpreter, named: CIDict, pos: list[Any], data: Any) -> list[Any]:
            coll = self._collection(noun)
            identity = ps_str(named.get(id_param))
            values = self._values(coll, named, cmdlet, {id_param.lower()})
            key = coll.key(identity)
            if key is None:
                raise PSError(f"{cmdlet}: {identity} does not exist.")
            if self._changing(cmdlet, identity, interp, named):
                return []
            coll.items[key].update(values)
            return []
        return Builtin(run)

    def remover(self, cmdlet: str, noun: str, id_param: str = "Identity") -> Builtin:
        def run(interp: Interpreter, named: CIDict, pos: list[Any], data: Any) -> list[Any]:
            coll = self._collection(noun)
            identity = ps_str(named.get(id_param))
            key = coll.key(identity)
            if key is None:
                raise PSError(f"{cmdlet}: {identity} does not exist.")
            if key in coll.permanent:
                raise PSError(f"{cmdlet}: {identity} cannot be removed.")
            if self._changing(cmdlet, identity, interp, named):
                return []
            del coll.items[key]
            return []
        return Builtin(run, frozenset({"Force"}))


def _const(*outputs: Any) -> Builtin:
    return Builtin(lambda interp, named, pos, data: list(outputs))


def _nothing() -> Builtin:
    return Builtin(lambda interp, named, pos, data: [])


# Get-CsService's role switches the scripts use, with the service name its identities start with.
SERVICE_ROLES = {"userserver": "UserServer", "director": "Registrar", "webserver": "WebServer",
                 "edgeserver": "EdgeServer"}


class FakeLync(FakeStore):
    """Lync Server / Skype for Business Server Management Shell over an in-memory store.

    Modern Authentication: OAuth servers and the global OAuth configuration are collections like the others;
    `auth_scenario` is what Set-CsAuthConfig set (Get-CsAuthConfig answers with it, or fails when
    `auth_config_fails`); `scenarios` is the module's AuthConfigScenario enumeration; `version` is what
    Get-CsServerVersion says; `metadata` the federation metadata WebClient serves; `missing` the cmdlets this
    shell lacks (an older cumulative update), `missing_parameters` the (cmdlet, parameter) pairs it lacks
    (Get-Command does not list them and the cmdlet refuses them).
    """

    def __init__(self, *, module: str = "SkypeForBusiness", pools: tuple[str, ...] = (),
                 sites: tuple[str, ...] = (), version: str | None = None,
                 metadata: dict[str, str] | None = None, services: dict[str, tuple[str, ...]] | None = None,
                 pool_sites: dict[str, str] | None = None) -> None:
        super().__init__()
        self.module = module
        self.pools = {p.lower() for p in pools}
        # Get-CsService by role switch (UserServer, Director, ...): the PoolFqdn of each service it lists.
        self.services = {k.lower(): tuple(v) for k, v in (services or {}).items()}
        # The topology's site of a pool (its services' SiteId, site:<name>, as the Get-CsService help shows it). A
        # pool given a site here is listed by Get-CsService -WebServer too.
        self.pool_sites = {k.lower(): v for k, v in (pool_sites or {}).items()}
        if self.pool_sites:
            listed = self.services.get("webserver", ())
            self.services["webserver"] = (*listed, *(p for p in self.pool_sites if p not in listed))
        self.sites = {s.lower() for s in sites}
        self.version = version if version is not None else VERSION_TEXTS.get(module, VERSION_TEXTS["sfb2019"])
        self.metadata = dict(metadata or {})
        self.auth_scenario = "AllowAllExternallyAndInternally"
        self.auth_config_fails = False
        self.scenarios = AUTH_SCENARIOS
        self.missing: set[str] = set()
        self.collections = {
            "CsWebServiceConfiguration": _Collection("CsWebServiceConfiguration", WEB_DEFAULTS,
                                                     {"Global": dict(WEB_DEFAULTS)}, frozenset({"Global"})),
            "CsProxyConfiguration": _Collection("CsProxyConfiguration", PROXY_DEFAULTS,
                                                {"Global": dict(PROXY_DEFAULTS)}, frozenset({"Global"})),
            "CsMobilityPolicy": _Collection("CsMobilityPolicy", MOBILITY_DEFAULTS,
                                            {"Global": dict(MOBILITY_DEFAULTS)}, frozenset({"Global"})),
            "CsOAuthServer": _Collection("CsOAuthServer", OAUTH_SERVER_DEFAULTS),
            "CsOAuthConfiguration": _Collection("CsOAuthConfiguration", OAUTH_CONFIGURATION_DEFAULTS,
                                                {"Global": dict(OAUTH_CONFIGURATION_DEFAULTS)},
                                                frozenset({"Global"})),
        }

    def state(self) -> dict[str, Any]:
        """A deep copy of every object and the authentication scenario, for comparing before and after."""
        return {**super().state(), "AuthScenario": self.auth_scenario}

    def commands(self) -> dict[str, Builtin]:
        out: dict[str, Builtin] = {}
        for noun in self.collections:
            out[f"Get-{noun}"] = self.getter(noun)
            out[f"New-{noun}"] = self.creator(f"New-{noun}", noun)
            out[f"Set-{noun}"] = self.setter(f"Set-{noun}", noun)
            out[f"Remove-{noun}"] = self.remover(f"Remove-{noun}", noun)

        def get_command(interp: Interpreter, named: CIDict, pos: list[Any], data: Any) -> list[Any]:
            name = ps_str(named.get("Name"))
            noun = name.split("-", 1)[-1]
            if name in self.missing:
                raise PSError(f"The term '{name}' is not recognized.")
            if noun == "CsAuthConfig":
                params = CIDict([("Scenario", PSObject([("ParameterType", EnumType(self.scenarios))])),
                                 ("Pool", True)])
                return [PSObject([("Name", name), ("ModuleName", self.module), ("Parameters", params)])]
            if noun not in self.collections:
                raise PSError(f"The term '{name}' is not recognized.")
            params = CIDict((k, True) for k in ["Identity", *self.collections[noun].defaults]
                            if (name, k) not in self.missing_parameters)
            return [PSObject([("Name", name), ("ModuleName", self.module), ("Parameters", params)])]

        def get_auth_config(interp: Interpreter, named: CIDict, pos: list[Any], data: Any) -> list[Any]:
            if named or pos:
                raise Unsupported("Get-CsAuthConfig with parameters (-Pool is never used)")
            if self.auth_config_fails:
                raise PSError("Get-CsAuthConfig: the authentication configuration could not be read.")
            return [PSObject([("Registrar", self.auth_scenario), ("WebServices", self.auth_scenario)])]

        def set_auth_config(interp: Interpreter, named: CIDict, pos: list[Any], data: Any) -> list[Any]:
            if "Pool" in named or pos or {k.lower() for k in named} - {"scenario", "whatif", "confirm"}:
                raise Unsupported(f"Set-CsAuthConfig with {named.keys()} (only -Scenario at the global level)")
            scenario = ps_str(named.get("Scenario"))
            if scenario not in self.scenarios:
                raise PSError(f"Cannot bind parameter 'Scenario'. Cannot convert value \"{scenario}\" to type "
                              f"\"AuthConfigScenario\".")
            if self._changing("Set-CsAuthConfig", "Global", interp, named):
                return []
            self.auth_scenario = scenario
            return []

        def get_module(interp: Interpreter, named: CIDict, pos: list[Any], data: Any) -> list[Any]:
            return [PSObject([("Name", self.module)])] if ps_str(named.get("Name")) == self.module else []

        def lookup(kind: set[str]) -> Builtin:
            def run(interp: Interpreter, named: CIDict, pos: list[Any], data: Any) -> list[Any]:
                identity = ps_str(named.get("Identity"))
                if identity.lower() not in kind:
                    raise PSError(f"{identity} was not found in the topology.")
                return [PSObject([("Identity", identity)])]
            return Builtin(run)

        out["Get-Command"] = Builtin(get_command)
        out["Get-Module"] = Builtin(get_module, frozenset({"ListAvailable"}))
        out["Import-Module"] = _nothing()
        def get_service(interp: Interpreter, named: CIDict, pos: list[Any], data: Any) -> list[Any]:
            roles = [k.lower() for k in named if k.lower() in SERVICE_ROLES]
            if pos or len(roles) != 1 or len(named) != 1:
                raise Unsupported(f"Get-CsService with {named.keys()} (only one role switch)")
            return [PSObject([("Identity", f"{SERVICE_ROLES[roles[0]]}:{fqdn}"), ("PoolFqdn", fqdn),
                              ("SiteId", f"site:{self.pool_sites[fqdn]}" if fqdn in self.pool_sites else None)])
                    for fqdn in self.services.get(roles[0], ())]

        out["Get-CsService"] = Builtin(get_service, frozenset(SERVICE_ROLES))
        out["Get-CsPool"] = lookup(self.pools)
        out["Get-CsSite"] = lookup(self.sites)
        out["Get-CsServerVersion"] = Builtin(lambda i, n, p, d: [self.version])
        out["Get-CsAuthConfig"] = Builtin(get_auth_config)
        out["Set-CsAuthConfig"] = Builtin(set_auth_config)
        out["New-Object"] = web_client(self.metadata)
        return out


class FakeAdfs(FakeStore):
    """The AD FS cmdlets (module or AD FS 2.0 snap-in) over an in-memory set of relying party trusts.

    `metadata` maps a relying party's metadata URL to its entityID: `WebClient.DownloadString` serves it,
    and `Add-AdfsRelyingPartyTrust -MetadataUrl` gives the new trust that identifier.
    """

    def __init__(self, *, host_name: str, policies: tuple[str, ...] = (),
                 metadata: dict[str, str] | None = None, web_api: bool = False,
                 setup_makes_web_api: bool | None = None) -> None:
        super().__init__()
        self.host_name = host_name
        self.policies = set(policies)
        self.metadata = dict(metadata or {})
        # AD FS 2016 and later (`web_api`): application groups exist. Microsoft's setup script (faked here, since
        # what it makes is not documented) makes a Web API application when `setup_makes_web_api` (by default
        # wherever application groups exist), else a relying party trust.
        self.application_groups = web_api
        self.setup_makes_web_api = web_api if setup_makes_web_api is None else setup_makes_web_api
        # Whether assigning an access control policy drops a trust's issuance authorization rules: not documented,
        # so by default the fake keeps them (adfs-server.ps1 warns, verify-adfs.ps1 fails on them).
        self.policy_drops_authorization_rules = False
        self.setup_runs: list[list[str]] = []
        self.collections = {
            "AdfsRelyingPartyTrust": _Collection("AdfsRelyingPartyTrust", TRUST_DEFAULTS),
            "AdfsWebApiApplication": _Collection("AdfsWebApiApplication", {**TRUST_DEFAULTS,
                                                                           "ApplicationGroupIdentifier": None}),
        }

    @property
    def web_apis(self) -> dict[str, dict[str, Any]]:
        return self.collections["AdfsWebApiApplication"].items

    @property
    def trusts(self) -> dict[str, dict[str, Any]]:
        return self.collections["AdfsRelyingPartyTrust"].items

    def _find(self, named: CIDict, by_name: str, by_id: str, items: dict[str, dict[str, Any]] | None = None
              ) -> str | None:
        items = self.trusts if items is None else items
        if by_name in named:
            wanted = ps_str(named[by_name]).lower()
            return next((n for n in items if n.lower() == wanted), None)
        if by_id in named:
            wanted = ps_str(named[by_id])
            return next((n for n, t in items.items() if wanted in (t.get("Identifier") or [])), None)
        raise PSError(f"name or identifier needed ({by_name} or {by_id})")

    def setup_script(self, name: str = "Skype for Business Server") -> Builtin:
        """Microsoft's setup script, faked: one trust whose identifiers are the pool URLs it is given."""
        def run(interp: Interpreter, named: CIDict, pos: list[Any], data: Any) -> list[Any]:
            ids = named.get("poolIDs")
            ids = [ps_str(i) for i in (ids if isinstance(ids, list) else [ids])]
            self.setup_runs.append(ids)
            if self.fail("setup", name):
                raise PSError("Setup script: simulated failure")
            items = self.web_apis if self.setup_makes_web_api else self.trusts
            if any(set(ids) & set(t.get("Identifier") or []) for t in (*self.trusts.values(), *self.web_apis.values())):
                raise PSError("MSIS7612: Each identifier for a relying party trust must be unique.")
            extra = {"ApplicationGroupIdentifier": "Skype for Business"} if self.setup_makes_web_api else {}
            items[name] = {**TRUST_DEFAULTS, **extra, "Identifier": ids,
                           "IssuanceAuthorizationRules": "permit all (made by the setup script)"}
            return []
        return Builtin(run)

    def commands(self) -> dict[str, Builtin]:
        noun = "AdfsRelyingPartyTrust"
        coll = self.collections[noun]

        def get(interp: Interpreter, named: CIDict, pos: list[Any], data: Any) -> list[Any]:
            key = self._find(named, "Name", "Identifier")
            if key is None:
                raise PSError("No relying party trust matches.")
            return [PSObject([("Name", key), *copy.deepcopy(self.trusts[key]).items()])]

        def add(interp: Interpreter, named: CIDict, pos: list[Any], data: Any) -> list[Any]:
            name = ps_str(named.get("Name"))
            url = ps_str(named.get("MetadataUrl"))
            values = self._values(coll, named, "Add-AdfsRelyingPartyTrust", {"name"})
            if url not in self.metadata:
                raise PSError(f"Add-AdfsRelyingPartyTrust: cannot read the metadata at {url}")
            identifier = self.metadata[url]
            if any(n.lower() == name.lower() for n in self.trusts) or \
                    any(identifier in (t.get("Identifier") or []) for t in self.trusts.values()):
                raise PSError(f"Add-AdfsRelyingPartyTrust: {name} or {identifier} already exists.")
            if self._changing("Add-AdfsRelyingPartyTrust", name, interp, named):
                return []
            self.trusts[name] = {**TRUST_DEFAULTS, **values, "Identifier": [identifier]}
            return []

        def change(cmdlet: str, remove: bool) -> Builtin:
            def run(interp: Interpreter, named: CIDict, pos: list[Any], data: Any) -> list[Any]:
                key = self._find(named, "TargetName", "TargetIdentifier")
                values = {} if remove else self._values(coll, named, cmdlet, {"targetname", "targetidentifier"})
                if key is None:
                    raise PSError(f"{cmdlet}: no such relying party trust.")
                if self._changing(cmdlet, key, interp, named):
                    return []
                if remove:
                    del self.trusts[key]
                else:
                    if "AccessControlPolicyName" in values and self.trusts[key].get("AccessControlPolicyParameters"):
                        # A policy is assigned with its parameters: the ones of the policy it replaces go.
                        values.setdefault("AccessControlPolicyParameters", None)
                    if values.get("AccessControlPolicyName") == "":
                        # The help un-assigns a policy with $null; what an empty name does is not documented, so the
                        # fake takes it for a policy of that name, which no farm has.
                        raise PSError(f"{cmdlet}: no access control policy named ''.")
                    if values.get("AccessControlPolicyName") and self.policy_drops_authorization_rules:
                        values.setdefault("IssuanceAuthorizationRules", "")
                    self.trusts[key].update(values)
                return []
            return Builtin(run)

        def policy(interp: Interpreter, named: CIDict, pos: list[Any], data: Any) -> list[Any]:
            name = ps_str(named.get("Name"))
            if name not in self.policies:
                raise PSError(f"Access control policy {name} not found.")
            return [PSObject([("Name", name)])]

        api_coll = self.collections["AdfsWebApiApplication"]

        def get_api(interp: Interpreter, named: CIDict, pos: list[Any], data: Any) -> list[Any]:
            key = self._find(named, "Name", "Identifier", self.web_apis)
            if key is None:
                raise PSError("No Web API application matches.")
            return [PSObject([("Name", key), *copy.deepcopy(self.web_apis[key]).items()])]

        def change_api(cmdlet: str, remove: bool) -> Builtin:
            def run(interp: Interpreter, named: CIDict, pos: list[Any], data: Any) -> list[Any]:
                key = self._find(named, "TargetName", "TargetIdentifier", self.web_apis)
                values = {} if remove else self._values(api_coll, named, cmdlet, {"targetname", "targetidentifier"})
                if key is None:
                    raise PSError(f"{cmdlet}: no such Web API application.")
                if self._changing(cmdlet, key, interp, named):
                    return []
                if remove:
                    del self.web_apis[key]
                else:
                    if "AccessControlPolicyName" in values and self.web_apis[key].get("AccessControlPolicyParameters"):
                        # As for a trust: a policy is assigned with its parameters, the old ones go.
                        values.setdefault("AccessControlPolicyParameters", None)
                    self.web_apis[key].update(values)
                return []
            return Builtin(run)

        commands = {
            "Get-AdfsRelyingPartyTrust": Builtin(get),
            "Add-AdfsRelyingPartyTrust": Builtin(add),
            "Set-AdfsRelyingPartyTrust": change("Set-AdfsRelyingPartyTrust", remove=False),
            "Remove-AdfsRelyingPartyTrust": change("Remove-AdfsRelyingPartyTrust", remove=True),
            "Get-AdfsAccessControlPolicy": Builtin(policy),
            "Get-AdfsProperties": _const(PSObject([("HostName", self.host_name)])),
            "Get-AdfsGlobalAuthenticationPolicy": _const(
                PSObject([("AdditionalAuthenticationProvider", ["AzureMfaAuthentication"])])),
            "Get-Module": Builtin(lambda i, n, p, d: [PSObject([("Name", "ADFS")])], frozenset({"ListAvailable"})),
            "Import-Module": _nothing(),
            "Get-PSSnapin": _const(PSObject([("Name", "Microsoft.Adfs.PowerShell")])),
            "Add-PSSnapin": _nothing(),
            "New-Object": web_client(self.metadata),
            "Setup-AdfsOAuthTrustForSfB.ps1": self.setup_script(),
            "Setup-Adfs2016OAuthTrustForSfB.ps1": self.setup_script(),
        }
        if self.application_groups:
            commands.update({
                "Get-AdfsWebApiApplication": Builtin(get_api),
                "Set-AdfsWebApiApplication": change_api("Set-AdfsWebApiApplication", remove=False),
                "Remove-AdfsWebApiApplication": change_api("Remove-AdfsWebApiApplication", remove=True),
            })

        def get_command(interp: Interpreter, named: CIDict, pos: list[Any], data: Any) -> list[Any]:
            name = ps_str(named.get("Name"))
            if name not in commands:
                raise PSError(f"The term '{name}' is not recognized.")
            return [PSObject([("Name", name), ("ModuleName", "ADFS")])]

        commands["Get-Command"] = Builtin(get_command)
        return commands
