"""What every plan field means, in an admin's words: its label, what it does, who it
breaks, and the Microsoft page to read before changing it.

The wizard shows this beside each field, and `label_for` turns a plan path such as
`pools[0].auth.external` into "Pool lyncpool01 › External authentication" for error
lists and diffs. No database and no request: plain data and functions.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

_SKYPE = "https://learn.microsoft.com/powershell/module/skypeforbusiness/"
_ADFS = "https://learn.microsoft.com/powershell/module/adfs/"
WEB_SERVICE = _SKYPE + "set-cswebserviceconfiguration"
PROXY = _SKYPE + "set-csproxyconfiguration"
MOBILITY = _SKYPE + "set-csmobilitypolicy"
REQUEST_CERT = _SKYPE + "request-cscertificate"
GET_POOL = _SKYPE + "get-cspool"
GET_SERVICE = _SKYPE + "get-csservice"
SIP_DOMAIN = _SKYPE + "get-cssipdomain"
SIMPLE_URL = _SKYPE + "set-cssimpleurlconfiguration"
ADD_RP = _ADFS + "add-adfsrelyingpartytrust"
SET_RP = _ADFS + "set-adfsrelyingpartytrust"
ADFS_AUTH_POLICY = _ADFS + "set-adfsglobalauthenticationpolicy"
ADFS_PROPERTIES = _ADFS + "get-adfsproperties"
TWO_FACTOR = "https://learn.microsoft.com/skypeforbusiness/manage/authentication/two-factor-authentication"
USE_ADAL = "https://learn.microsoft.com/skypeforbusiness/manage/authentication/use-adal"
MODERN_TOPOLOGIES = ("https://learn.microsoft.com/skypeforbusiness/plan-your-deployment/modern-authentication/"
                     "topologies-supported")
SET_AUTH_CONFIG = _SKYPE + "set-csauthconfig"
NEW_OAUTH_SERVER = _SKYPE + "new-csoauthserver"
LIFECYCLE_2019 = "https://learn.microsoft.com/lifecycle/products/skype-for-business-server-2019"
CLIENT_AUTH = "https://learn.microsoft.com/skypeforbusiness/plan-your-deployment/security/user-and-client-authentication"
EDGE_CERTS = ("https://learn.microsoft.com/skypeforbusiness/plan-your-deployment/edge-server-deployments/"
              "edge-environmental-requirements")
# Link text for each page, so a screen reader's link list says where each one goes.
LINK_TITLES: dict[str, str] = {
    WEB_SERVICE: "Set-CsWebServiceConfiguration",
    PROXY: "Set-CsProxyConfiguration",
    MOBILITY: "Set-CsMobilityPolicy",
    REQUEST_CERT: "Request-CsCertificate",
    GET_POOL: "Get-CsPool",
    GET_SERVICE: "Get-CsService",
    SIP_DOMAIN: "Get-CsSipDomain",
    SIMPLE_URL: "Set-CsSimpleUrlConfiguration",
    ADD_RP: "Add-AdfsRelyingPartyTrust",
    SET_RP: "Set-AdfsRelyingPartyTrust",
    ADFS_AUTH_POLICY: "Set-AdfsGlobalAuthenticationPolicy",
    ADFS_PROPERTIES: "Get-AdfsProperties",
    TWO_FACTOR: "Two-factor authentication in Skype for Business Server",
    USE_ADAL: "How to use Modern Authentication (ADAL) with Skype for Business",
    MODERN_TOPOLOGIES: "Skype for Business topologies supported with Modern Authentication",
    SET_AUTH_CONFIG: "Set-CsAuthConfig",
    NEW_OAUTH_SERVER: "New-CsOAuthServer",
    LIFECYCLE_2019: "Skype for Business Server 2019 lifecycle",
    CLIENT_AUTH: "User and client authentication",
    EDGE_CERTS: "Edge Server environmental requirements",
}


@dataclass(frozen=True)
class Explanation:
    """How the wizard explains one field."""

    label: str
    what: str
    breaks: str
    link: str

    @property
    def link_title(self) -> str:
        """Return the name of the Microsoft page `link` points to."""
        return LINK_TITLES.get(self.link, "Microsoft documentation")

    def help_html(self) -> str:
        """Return the help text shown under the field (escaped HTML with the Microsoft link)."""
        # Markup.format escapes every argument (Django templates honour __html__, so no double escaping).
        breaks = Markup(' <span class="explain-breaks"><strong>Who it breaks:</strong> {}</span>').format(
            self.breaks) if self.breaks else Markup("")
        return Markup(
            '<span class="explain-what">{}</span>{} '
            '<a class="explain-link" href="{}" target="_blank" rel="noopener noreferrer">Microsoft: {}</a>'
        ).format(self.what, breaks, self.link, self.link_title)


def _e(label: str, what: str, breaks: str, link: str) -> Explanation:
    return Explanation(label=label, what=what, breaks=breaks, link=link)


# Keys are plan paths with list indexes written as `[]`.
FIELDS: dict[str, Explanation] = {
    "format": _e("Plan format", "The plan file format; the wizard always writes lync-auth-plan/1.", "", GET_POOL),
    "sip_domains": _e("SIP domains", "Every SIP domain of the deployment; at least one.", "", SIP_DOMAIN),
    "pools": _e("Pools", "The Front End and Director pools this plan changes; at least one.", "", GET_POOL),
    "edge_pools": _e("Edge pools", "The Edge pools remote users sign in through.", "", PROXY),
    "mobility_policies": _e("Mobility policies", "The mobility policies this plan changes.", "", MOBILITY),
    "name": _e("Plan name",
               "A name for this change, shown in the plan list, in the review trail and at the top of every "
               "generated script.",
               "", GET_POOL),
    "product": _e("Product",
                  "The server version the scripts are written for. It decides which cmdlet parameters exist and "
                  "which warnings apply (some mobility settings need a recent cumulative update on Lync 2013). "
                  "Subscription Edition is the only supported version today: it is installed in place over 2019 "
                  "and has the same cmdlets; Lync Server 2013 and Skype for Business Server 2015 and 2019 are out "
                  "of extended support, which the findings say with the way forward.",
                  "Choosing a newer product than the one installed gives scripts that stop on unknown parameters.",
                  LIFECYCLE_2019),
    "sip_domains[]": _e("SIP domain",
                        "A SIP domain users sign in with. Each one needs lyncdiscover.<domain> on the reverse proxy "
                        "certificate when Autodiscover is published on port 443.",
                        "Users of a missing domain get no certificate name check and their mobile clients "
                        "cannot discover the service.", SIP_DOMAIN),
    "pools[].fqdn": _e("Pool FQDN",
                       "The Front End or Director pool name from the topology (for Standard Edition: the server "
                       "name). The scripts address this pool's own settings (service:WebServer:… and "
                       "service:Registrar:…), never the global ones. A pasted scope prefix is removed.",
                       "Nobody by itself; a wrong name makes the scripts stop before changing anything.", GET_POOL),
    "pools[].role": _e("Pool role",
                       "Front End pool or Director pool. A Director is where external sign-ins land first when "
                       "you have one.",
                       "", GET_POOL),
    "pools[].site": _e("Site",
                       "The topology site of the pool, used for display and for site-level mobility policies.",
                       "", GET_POOL),
    "pools[].internal_web_fqdn": _e("Internal web services FQDN",
                                    "The name internal clients use for the pool's web services. Leave it empty "
                                    "when it is the pool name. AD FS reads the internal relying party's metadata "
                                    "from this name.",
                                    "", GET_SERVICE),
    "pools[].external_web_fqdn": _e("External web services FQDN",
                                    "The name the reverse proxy publishes for this pool (…/CertProv, /WebTicket, "
                                    "/passiveauth). Needed for passive authentication and for the reverse proxy "
                                    "certificate.",
                                    "Remote and mobile users cannot get a web ticket or a client certificate "
                                    "when it is wrong.", GET_SERVICE),
    "pools[].auth": _e("Authentication", "How this pool authenticates users from the Internet.", "", WEB_SERVICE),
    "pools[].auth.external": _e(
        "External authentication",
        "NTLM keeps password sign-in; TLS-DSK lets remote clients sign in with a Lync-issued certificate only; "
        "passive hands sign-in to AD FS (where MFA can be required). \"Leave unchanged\" generates nothing for "
        "this pool.",
        "Passive applies to every user of the pool: Lync 2010, Lync for Mac, Lync Phone Edition and other "
        "desk phones, room systems and old mobile apps can no longer sign in, and Exchange-based features stop.",
        TWO_FACTOR),
    "pools[].auth.certificate_auth": _e(
        "Keep certificate authentication",
        "Lets clients authenticate to the web services with their Lync-issued client certificate "
        "(UseCertificateAuth). The mobile apps need it to keep signing in once they have a certificate.",
        "Turning it off signs out every client that relies on its certificate: Lync Phone Edition phones that "
        "signed in with an extension and PIN stop working, inside the network too (unless paired with a computer "
        "by USB), and the mobile apps must sign in with the password again.", WEB_SERVICE),
    "pools[].auth.client_certificate_hours": _e(
        "Client certificate lifetime",
        "How long a Lync-issued client certificate stays valid, in hours: give all three values or none.",
        "", WEB_SERVICE),
    "pools[].auth.client_certificate_hours.default": _e(
        "Default certificate lifetime (hours)",
        "The lifetime a new client certificate gets unless the client asks otherwise (8–8760; the server "
        "default is 4320, 180 days). Shorter means users type their password more often.",
        "Users re-enter credentials at least this often; a lost device keeps access until it expires or is "
        "revoked.", WEB_SERVICE),
    "pools[].auth.client_certificate_hours.min": _e(
        "Shortest certificate lifetime (hours)",
        "The shortest lifetime a client may request (8–4320).",
        "", WEB_SERVICE),
    "pools[].auth.client_certificate_hours.max": _e(
        "Longest certificate lifetime (hours)",
        "The longest lifetime a client may request (8–8760).",
        "", WEB_SERVICE),
    "pools[].auth.block_ntlm_at_registrar": _e(
        "Also block NTLM and Kerberos at the Registrar",
        "Turns off NTLM and Kerberos for SIP sign-in on this pool's Registrar too, not only at the Edge.",
        "Clients inside the network must then sign in with a Lync client certificate (TLS-DSK): a client without "
        "one first gets it from the pool's CertProv (with the password, or through AD FS on a passive pool), but "
        "phones, room systems and third-party clients that only sign in with NTLM or Kerberos cannot sign in, even "
        "inside the network.", PROXY),
    "pools[].auth.block_pin_auth": _e(
        "Turn PIN authentication off",
        "Stops this pool's web services from accepting an extension or phone number and PIN "
        "(UsePinAuth), a password-like sign-in that works from the Internet and never goes through AD FS. "
        "Passive pools have it off already, so there it changes nothing.",
        "Lync Phone Edition and 3PIP desk phones that sign in with an extension and PIN stop signing in, "
        "inside the network too. Dial-in conferencing callers keep using their PIN on the phone line: that is "
        "not a web services sign-in.",
        WEB_SERVICE),
    "pools[].relying_parties": _e("Relying parties", "The AD FS relying party trusts for this pool.", "", ADD_RP),
    "pools[].relying_parties.internal": _e(
        "Internal relying party name",
        "The AD FS relying party trust that reads its metadata from the internal web services name. The AD FS "
        "script sets the plan's MFA on both trusts, this one and the external one (with extranet MFA only "
        "requests through the Web Application Proxy are asked for a second factor). Leave empty to use a name "
        "derived from the pool.",
        "Renaming an existing trust leaves the old one behind in AD FS.", ADD_RP),
    "pools[].relying_parties.external": _e(
        "External relying party name",
        "The AD FS relying party trust for the external web services name. The AD FS script sets the plan's "
        "MFA on both trusts, this one and the internal one (with extranet MFA only requests through the Web "
        "Application Proxy are asked for a second factor). Leave empty to use a name derived from the pool.",
        "Renaming an existing trust leaves the old one behind in AD FS.", ADD_RP),
    "edge_pools[].fqdn": _e(
        "Edge pool FQDN",
        "The internal FQDN of the Edge pool from the topology. The scripts address its own proxy settings "
        "(service:EdgeServer:…).",
        "", PROXY),
    "edge_pools[].access_fqdn": _e(
        "Access Edge external FQDN",
        "The public SIP name remote clients and federated partners connect to. It is the subject of the Edge "
        "external certificate.",
        "", EDGE_CERTS),
    "edge_pools[].webconf_fqdn": _e(
        "Web Conferencing Edge external FQDN",
        "The public name for meeting content; it goes on the Edge external certificate as a SAN.",
        "", EDGE_CERTS),
    "edge_pools[].av_fqdn": _e(
        "A/V Edge external FQDN",
        "The public name for audio and video. The A/V Edge service needs only the key of the Edge certificate, "
        "not this name: it is on the certificate only when another Edge service of the pool has the same name.",
        "", EDGE_CERTS),
    "edge_pools[].block_ntlm": _e(
        "Block NTLM and Kerberos at this Edge",
        "Remote clients can no longer sign in to SIP with a password through this Edge; they must use a "
        "client certificate (TLS-DSK). The web services behind the reverse proxy still accept passwords unless "
        "the pool uses passive authentication.",
        "Remote clients that cannot do TLS-DSK (desk phones and room systems that only do NTLM, third-party "
        "clients) can no longer sign in from the Internet. Whether Lync for Mac 2011 and other Mac clients sign in "
        "with TLS-DSK is not settled: test them from outside before the switch.", PROXY),
    "adfs": _e("AD FS", "The AD FS farm that passive authentication or Modern Authentication hands sign-in to.", "",
               ADD_RP),
    "adfs.federation_service_name": _e(
        "Federation service name",
        "The AD FS service name (not a server name). The pool reads AD FS metadata from "
        "https://<this name>/FederationMetadata/2007-06/FederationMetadata.xml.",
        "If the pool cannot reach that URL, passive sign-in fails for everyone on the pool.", ADFS_PROPERTIES),
    "adfs.version": _e(
        "AD FS version",
        "Decides how the relying party rules are written: AD FS 2.0 has no per-application MFA rules; 2012 R2 "
        "uses additional authentication rules; 2016 and later can use access control policies.",
        "", SET_RP),
    "adfs.mfa": _e(
        "Multi-factor authentication",
        "Whether AD FS asks for a second factor: never, only for requests from the extranet (through the Web "
        "Application Proxy), or always; on the Lync relying parties, or with Modern Authentication on its trust. "
        "An MFA provider must already be set up in AD FS.",
        "Without a working MFA provider nobody can sign in to a passive pool once MFA is required.",
        ADFS_AUTH_POLICY),
    "adfs.published_on_reverse_proxy": _e(
        "AD FS is published on the reverse proxy",
        "Tick when the same plain reverse proxy listener and certificate that publish the web services publish AD "
        "FS too (not a Web Application Proxy or AD FS proxy); the AD FS name is then added to the reverse proxy "
        "certificate. Leave it unticked when Internet users reach AD FS through a Web Application Proxy, even one "
        "that also publishes the web services.",
        "Through a plain reverse proxy AD FS takes every Internet request for an internal one: extranet MFA never "
        "asks for a second factor, extranet lockout never counts, and Windows integrated sign-in is offered to "
        "the Internet.", TWO_FACTOR),
    "modern_auth": _e(
        "Turn on Modern Authentication through AD FS",
        "Modern Authentication (ADAL/OAuth): the desktop clients sign in at AD FS, where MFA can be required, and "
        "present its token to every pool. It is global, for the whole deployment; AD FS 2012 R2 or later, "
        "Skype for Business Server 2015 or later, and no pool with passive authentication. Microsoft does not "
        "recommend it with AD FS alone: MFA for the Windows desktop client only, no mobile client.",
        "Once Windows authentication is blocked (the scenario below), Lync 2010, Mac clients, the mobile apps, "
        "phones and room systems that sign in with a user name and password, and Office 2013 without its registry "
        "settings can no longer sign in from the Internet (phones that sign in with a PIN should keep signing in: "
        "inferred, test one).", USE_ADAL),
    "modern_auth.oauth_server_identity": _e(
        "OAuth server identity",
        "The name New-CsOAuthServer gives the AD FS farm in Skype for Business. Leave it empty to use the "
        "federation service name, as Microsoft's procedure does.", "", NEW_OAUTH_SERVER),
    "modern_auth.accept_sid_claims": _e(
        "Accept security identifiers (resource forest)",
        "On in a resource forest: users are then matched by the PrimarySID claim of the token "
        "(-AcceptSecurityIdentifierInformation). Left as it is, the script does not touch an existing OAuth "
        "server's setting.", "", NEW_OAUTH_SERVER),
    "modern_auth.scenario": _e(
        "Windows authentication (Set-CsAuthConfig scenario)",
        "Which sign-in Skype for Business still accepts once Modern Authentication is on, outside and inside the "
        "network, set once at the global level. \"Leave\" keeps the scenario in effect; only the scenarios that "
        "block Windows authentication from the Internet close password sign-in there (PIN sign-in stays).",
        "Blocking Windows authentication locks out every client without Modern Authentication; blocking it "
        "externally also turns NTLM off at the Registrar inside.", SET_AUTH_CONFIG),
    "modern_auth.office2013_clients": _e(
        "Add the Office 2013 client settings",
        "The bundle then carries office2013-modern-auth.ps1, which sets EnableADAL and Version for the user who "
        "runs it (a logon script): Office 2013 uses Modern Authentication only with them.",
        "Office 2013 users without the settings lose sign-in where Windows authentication is blocked.",
        USE_ADAL),
    "mobility_policies[]": _e("Mobility policy", "A mobility policy for the mobile apps.", "", MOBILITY),
    "mobility_policies[].identity": _e(
        "Policy identity",
        "Which policy to change: Global, site:<site name> or Tag:<name> for a per-user policy (a new one is "
        "created when it does not exist).",
        "Global applies to every user without a more specific policy.", MOBILITY),
    "mobility_policies[].enable_mobility": _e(
        "Mobile apps", "Whether users may use the Lync / Skype for Business mobile apps at all.",
        "Blocking it signs every user of the policy out of the mobile apps.", MOBILITY),
    "mobility_policies[].enable_outside_voice": _e(
        "Call via Work", "Whether users may place calls from the mobile app using their work number.",
        "", MOBILITY),
    "mobility_policies[].enable_ip_audio_video": _e(
        "Audio and video over IP", "Whether the mobile app may make VoIP and video calls.", "", MOBILITY),
    "mobility_policies[].require_wifi_for_ip_audio": _e(
        "IP audio only on Wi-Fi", "When required, VoIP calls from the app only work on Wi-Fi.",
        "Users on mobile data cannot make VoIP calls.", MOBILITY),
    "mobility_policies[].require_wifi_for_ip_video": _e(
        "IP video only on Wi-Fi", "When required, video from the app only works on Wi-Fi.",
        "Users on mobile data cannot use video.", MOBILITY),
    "mobility_policies[].require_wifi_for_sharing": _e(
        "Screen sharing only on Wi-Fi", "When required, viewing shared screens only works on Wi-Fi.",
        "Users on mobile data cannot view shared content.", MOBILITY),
    "mobility_policies[].allow_save_credentials": _e(
        "Save password on the device",
        "Whether the app may store the user's password. Blocking it keeps AD passwords off lost phones.",
        "The iOS app signs out when it comes back from the background, so users type their password more "
        "often. Lync 2013 needs a recent cumulative update for this setting.", MOBILITY),
    "mobility_policies[].allow_exchange_connectivity": _e(
        "Connect to Exchange",
        "Whether the app may connect to Exchange with the user's credentials (calendar, meetings, voicemail).",
        "Blocking it removes meetings and voicemail from the app. Lync 2013 needs a recent cumulative update "
        "for this setting.", MOBILITY),
    "mobility_policies[].allow_save_im_history": _e(
        "Save IM history on the device", "Whether conversation history is kept on the phone.", "", MOBILITY),
    "mobility_policies[].allow_save_call_logs": _e(
        "Save call logs on the device", "Whether the call log is kept on the phone (not on Android).", "",
        MOBILITY),
    "mobility_policies[].allow_customer_experience_improvement_program": _e(
        "Customer Experience Improvement Program", "Whether the app may send usage data to Microsoft.", "",
        MOBILITY),
    "simple_urls": _e("Simple URLs", "The meet, dial-in and admin simple URLs.", "", SIMPLE_URL),
    "simple_urls.meet": _e(
        "Meet simple URLs",
        "The meeting join host names (one per SIP domain, comma separated). They go on the reverse proxy "
        "certificate; nothing is changed on the servers.", "", SIMPLE_URL),
    "simple_urls.meet[]": _e("Meet simple URL", "A meeting join host name.", "", SIMPLE_URL),
    "simple_urls.dialin": _e(
        "Dial-in simple URL", "The dial-in conferencing page host name; it goes on the reverse proxy certificate.",
        "", SIMPLE_URL),
    "simple_urls.admin": _e(
        "Admin simple URL", "The Control Panel host name; only used internally, so it is not published.", "",
        SIMPLE_URL),
    "office_web_apps_fqdn": _e(
        "Office Online Server FQDN",
        "The Office Online Server (Office Web Apps) name used for PowerPoint sharing, when it is published "
        "through the same reverse proxy.", "", GET_SERVICE),
    "autodiscover_port": _e(
        "Autodiscover port",
        "How lyncdiscover is published for mobile clients. On 443 every SIP domain needs "
        "lyncdiscover.<domain> on the reverse proxy certificate; on 80 no certificate change is needed.",
        "Mobile clients of a domain without a lyncdiscover name on the certificate cannot sign in on 443.",
        CLIENT_AUTH),
    "certificates": _e("Certificates", "Certificate request settings.", "", REQUEST_CERT),
    "certificates.key_size": _e(
        "Key size", "The RSA key length for the certificate requests the scripts create.",
        "Some old phones and gateways cannot use 4096-bit keys.", REQUEST_CERT),
    "certificates.ca": _e(
        "Online CA",
        "An enterprise CA the requests are sent to directly, written as the CA server's full name, a backslash "
        "and the CA's name (ca01.contoso.com\\Contoso Issuing CA). Leave empty to write "
        "request files for a public CA instead.",
        "Clients on the Internet and federated partners do not trust an internal CA's certificate on the Edge "
        "or the reverse proxy.", REQUEST_CERT),
    "accepted_risks": _e(
        "Accepted risks",
        "Errors about a broken promise (MFA, or blocked NTLM) that the plan's authors accept, each with the "
        "reason: the error becomes a warning that says so, and the runbook lists it.",
        "An accepted risk leaves a way to sign in from the Internet with a password alone.", TWO_FACTOR),
    "accepted_risks[].code": _e(
        "Finding code", "The code of the accepted error, as the findings show it (mfa_registrar_password_open, ...).",
        "", TWO_FACTOR),
    "accepted_risks[].field": _e(
        "Field", "The field the accepted error names, exactly as the findings show it.", "", TWO_FACTOR),
    "accepted_risks[].reason": _e(
        "Reason", "Why the risk is accepted, in words a reviewer can check (up to 500 characters).", "",
        TWO_FACTOR),
}

_INDEX_RE = re.compile(r"\[\d+\]")
# The container (list item) labels that prefix a field label.
_ITEM_LABELS = {
    "pools": "Pool",
    "edge_pools": "Edge pool",
    "mobility_policies": "Mobility policy",
    "accepted_risks": "Accepted risk",
    "sip_domains": "SIP domain",
    "simple_urls.meet": "Meet simple URL",
}
_ITEM_KEYS = {"pools": "fqdn", "edge_pools": "fqdn", "mobility_policies": "identity", "sip_domains": None,
              "simple_urls.meet": None}
# `container[index]` or `container[index].rest`, the longest container name first. One pattern for
# all containers: a 100-pool plan labels thousands of paths (a revision's settings, its findings).
_CONTAINERS = "|".join(re.escape(name) for name in sorted(_ITEM_LABELS, key=len, reverse=True))
_ITEM_PATH_RE = re.compile(rf"^({_CONTAINERS})\[(\d+)\](?:\.(.*))?$")


def generic_path(path: str) -> str:
    """Return `path` with every list index replaced by `[]` (`pools[0].fqdn` -> `pools[].fqdn`)."""
    return _INDEX_RE.sub("[]", path)


def explain(path: str) -> Explanation | None:
    """Return the explanation for a plan path (indexes are ignored), or None for an unknown path."""
    return FIELDS.get(generic_path(path))


def _item_name(doc: Any, container: str, index: int) -> str | None:
    """Return a short display name for item `index` of `container` in `doc`, when the doc has one."""
    if not isinstance(doc, dict):
        return None
    node: Any = doc
    for part in container.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, list) or not 0 <= index < len(node):
        return None
    item = node[index]
    key = _ITEM_KEYS.get(container)   # a list without a naming key (accepted risks) is numbered
    raw = item.get(key) if key and isinstance(item, dict) else item
    if not isinstance(raw, str) or not raw.strip():
        return None
    value = raw.strip()
    # Pools and Edge pools are named by their host label, as admins say "lyncpool01".
    return value.split(".")[0] if key == "fqdn" else value


def label_for(path: str, doc: Any = None) -> str:
    """Return a human label for a plan path, e.g. "Pool lyncpool01 › External authentication".

    With `doc` (the plan document the path points into) list items are named by their
    FQDN host label or identity; without it they are numbered from 1.
    """
    if path in ("", "(plan)"):
        return "The plan"
    container = ""
    prefix: list[str] = []
    rest = path
    match = _ITEM_PATH_RE.match(path)
    if match:
        container = match.group(1)
        index = int(match.group(2))
        item = _item_name(doc, container, index)
        shown = item if item is not None else str(index + 1)
        prefix.append(f"{_ITEM_LABELS[container]} {shown}")
        rest = match.group(3) or ""
    if container and not rest:
        return prefix[0]
    full = f"{container}[].{rest}" if container else generic_path(path)
    explanation = FIELDS.get(full)
    if explanation is not None:
        leaf = explanation.label
    else:
        # An unknown field (an `x_` extension, say): its own key, readable.
        last = _INDEX_RE.sub("", (rest or path).rsplit(".", 1)[-1]).replace("_", " ").strip()
        leaf = last[:1].upper() + last[1:] if last else path
    return " › ".join([*prefix, leaf])
