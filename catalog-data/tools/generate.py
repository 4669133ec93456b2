#!/usr/bin/env python3
"""Generate catalog-data/apps/*.toml from the Entra SaaS-app seed table.

Usage (from the repository root):

    python3 catalog-data/tools/generate.py \
        --tsv /work/shared/catalog-sources/entra-saas-apps.tsv \
        --out catalog-data/apps

The input is `entra-saas-apps.tsv` (CC BY 4.0, see catalog-data/NOTICE). Only rows
with `patterns_extracted=yes` become entries: for the other rows the source holds
a name and nothing we could turn into a template, and we never invent SSO details.

What this script does to each row, in order:

1. Applies the hand-written fixes in `ROW_FIXES` (typos the source flags, bare
   placeholders without brackets). Each fix carries the reason that is written
   into the entry's `source.notes`.
2. Splits multi-valued cells on " ; ". The first usable alternative becomes the
   template and the rest become `*_alternatives`, unless `PICK` says which one is
   the production value (the source lists some sandboxes first).
3. Turns placeholders (`<subdomain>`, `<COMPANY_NAME>`, `{enterprise}`,
   `< UNIQUE ID >`, `[FQDN of PCS]` ...) into `{variable}` references. Two
   spellings that differ only in case and punctuation are one variable. A
   placeholder that is the leftmost DNS label of a vendor host and means "your
   tenant" is called `subdomain`; any other keeps a snake_case form of its own
   name. The validation rule comes from where the variable is used: a DNS label,
   a whole host name (optionally with a port), a port, a UUID, or a URL-safe
   identifier.
4. Drops values we cannot stand behind: wildcards (`https://*.icims.com/*`),
   values the source flags as examples, and values whose URL does not parse.
   Each drop is recorded in `source.notes`.

The output is deterministic: running the script twice gives the same files.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
from urllib.parse import urlsplit

# ---------------------------------------------------------------------------
# Fixed vocabularies (mirrored by protocols/catalog; documented in README.md).

USE_CASES = ("sso", "provisioning", "jit_provisioning")
FUNCTIONALITY = ("SAML", "OIDC", "WS_FEDERATION", "SWA", "SCIM", "BOOKMARK")
INDUSTRIES = ("education", "financial_services", "government", "healthcare", "legal", "retail")

MODE_TO_FUNCTIONALITY = {"saml": "SAML", "oidc": "OIDC", "password": "SWA", "scim": "SCIM"}

# ---------------------------------------------------------------------------
# Validation rules for template variables. The crate anchors every pattern, so a
# value must match it as a whole.

LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
RULES = {
    "dns_label": (LABEL, "acme"),
    "hostname": (LABEL + r"(?:\." + LABEL + r")*(?::[0-9]{1,5})?", "sso.example.com"),
    "domain": (LABEL + r"(?:\." + LABEL + r")+", "example.com"),
    "port": (r"[0-9]{1,5}", "8443"),
    "uuid": (r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}",
             "123e4567-e89b-12d3-a456-426614174000"),
    "identifier": (r"[A-Za-z0-9][A-Za-z0-9._~-]{0,127}", None),
}

# Placeholders that, as the leftmost label of a vendor's host, name the customer's
# tenant. Keys are the placeholder lowercased with everything but [a-z0-9] removed.
SUBDOMAIN_SYNONYMS = {
    "subdomain", "yoursubdomain", "company", "companyname", "tenant", "tenantname",
    "instance", "instancename", "customer", "customername", "domain", "domainname",
    "yourdomain", "yourapp", "servername", "portalname", "projectname", "clientkey",
    "customerdomain", "snowflakeurl", "myinstance",
}

# Spellings too vague to label the subdomain variable with.
VAGUE_SUBDOMAIN = {"domain", "domainname", "yourdomain", "snowflakeurl", "yourapp", "myinstance"}

# Placeholders whose meaning is clear but whose spelling makes a poor variable name.
NAME_OVERRIDES = {
    "yourdomaincom": ("domain", "domain", "Primary domain"),
    "domainport": ("host", "hostname", "Host and port"),
    "configureddomain": ("email_domain", "domain"),
    "emailsuffix": ("email_domain", "domain"),
    "sysidofthessoconfiguration": ("sso_config_sys_id", "identifier", "SSO configuration sys_id"),
    "customerenteredstring": ("customer_string", "identifier"),
    "fortigateiporfqdnaddress": ("host", "hostname"),
    "pvwadnsorip": ("host", "hostname"),
    "customerfirewallfqdn": ("host", "hostname"),
    "customerfirewallurl": ("host", "hostname"),
    "fqdnofpcs": ("host", "hostname"),
    "yourcompanyinstanceofsapnetweaver": ("host", "hostname"),
    "companyidfromenvoy": ("company_id", "identifier", "Company ID (from Envoy)"),
    "aemserverurl": ("host", "hostname"),
}

# Words that mark a placeholder standing for a whole host when it fills the host.
HOST_WORDS = ("fqdn", "hostname", "host", "url", "server", "domain", "ip")

# ---------------------------------------------------------------------------
# Per-row decisions. Every one is written into the entry's source.notes.

# slug -> list of (column, old, new, note). `new=None` empties the column.
ROW_FIXES = {
    "akamai": [("saml_reply_url_pattern", "https:// <", "https://<",
                "removed a stray space after https:// in the reply URL")],
    "deputy": [("saml_reply_url_pattern", "samlacs.", "samlacs",
                "removed a trailing full stop from one reply URL")],
    "gainsight": [("saml_reply_url_pattern", "callback connection=", "callback?connection=",
                   "restored the missing '?' before connection= (the EU reply URL has it)")],
    "invision": [("saml_reply_url_pattern", ".com//sso", ".com/sso",
                  "collapsed a doubled slash in the reply URL")],
    "kronos-workforce-dimensions": [("saml_identifier_pattern", "<TENANT_ID/hsp", "<TENANT_ID>/hsp",
                                     "closed the unterminated <TENANT_ID placeholder")],
    "logicmonitor": [("saml_reply_url_pattern", "https://companyname.", "https://<companyname>.",
                      "read the bare 'companyname' host label as the <companyname> placeholder used by the other fields")],
    "logzio-cloud-observability-for-engineers": [
        ("saml_identifier_pattern", "urn:auth0:logzio:* ; ", "",
         "dropped the wildcard identifier alternative"),
        ("saml_identifier_pattern", "CONNECTION-NAME", "<CONNECTION-NAME>",
         "read the bare CONNECTION-NAME as a placeholder"),
        ("saml_reply_url_pattern", "https://logzio.auth0.com/login/callback?connection= ; ", "",
         "dropped the reply URL alternative with an empty connection"),
        ("saml_reply_url_pattern", "CONNECTION-NAME", "<CONNECTION-NAME>",
         "read the bare CONNECTION-NAME as a placeholder"),
    ],
    "opsgenie": [("saml_identifier_pattern", None, None,
                  "the source flags a suspected typo in the host (opsginie.com); its URLs are not carried over"),
                 ("saml_reply_url_pattern", None, None, None)],
    "printerlogic-saas": [("saml_signon_url_pattern", None, None,
                           "dropped the sign-on URL: its host lacks a dot before printercloud.com (source typo)")],
    "sugarcrm": [("saml_signon_url_pattern", " ; https://<companyname>.trial.sugarcrm", "",
                  "dropped a sign-on alternative with no top-level domain (source typo)")],
    "workplacebyfacebook": [("saml_reply_url_pattern", None, None,
                             "dropped the reply and sign-on URLs: their host has an empty first label (source typo)"),
                            ("saml_signon_url_pattern", None, None, None)],
    "citrix-netscaler": [("saml_reply_url_pattern", None, None,
                          "dropped the reply URL: the source writes it as http(s)://<YOUR_FQDN>.of.vserver/..., which is prose, not a pattern")],
    "airwatch": [("saml_signon_url_pattern", "gid=companycode", "gid=<COMPANY_CODE>",
                  "read the bare 'companycode' in the sign-on URL as the <COMPANY_CODE> placeholder of the reply URL")],
    "proofpoint-ondemand": [("saml_reply_url_pattern", ":portnumber/", ":<portnumber>/",
                             "read the bare 'portnumber' as a placeholder")],
    "rsa-archer-suite": [("saml_identifier_pattern", "_TENANT_STRING", "_<TENANT_STRING>",
                          "read the bare TENANT_STRING as a placeholder")],
    "infor-cloud-suite": [("saml_signon_url_pattern", "/Tenant-Name/", "/<Tenant-Name>/",
                           "read the bare Tenant-Name path segment as a placeholder")],
    "ariba": [("saml_reply_url_pattern", "/CUSTOM_URL", "/<CUSTOM_URL>",
               "read the bare CUSTOM_URL path segment as a placeholder")],
    "freshworks": [("saml_reply_url_pattern", "/CUSTOM_URL", "/<CUSTOM_URL>",
                    "read the bare CUSTOM_URL path segment as a placeholder")],
    "intralinks": [("saml_signon_url_pattern", None, None,
                    "dropped the sign-on URL: it embeds the Microsoft Entra tenant's issuer, which does not apply to another identity provider")],
    "qliksense-enterprise": [
        ("saml_reply_url_pattern", "{/virtualproxyprefix}", "",
         "removed the optional {/virtualproxyprefix} path prefix (the default virtual proxy has none)"),
        ("saml_signon_url_pattern", "{/virtualproxyprefix}", "", None)],
    "walkme-saml": [("relay_state", '\\"', '"', "unescaped the quotes in the JSON relay state")],
    "splunkenterpriseandsplunkcloud": [
        ("saml_identifier_pattern", None, None,
         "dropped the identifier: the source gives only <splunkserverUrl>, so the admin types it"),
        ("saml_signon_url_pattern", "<splunkserverUrl>", "<splunkserver>",
         "read <splunkserverUrl> and <splunkserver> as the same host")],
}

# slug -> column -> index of the alternative that is the production value.
PICK = {
    "coupa": {"saml_identifier_pattern": 1, "saml_reply_url_pattern": 1},
    "statuspage": {"saml_identifier_pattern": 1, "saml_reply_url_pattern": 1},
    "sap-hana-cloud-platform": {"saml_identifier_pattern": 1, "saml_reply_url_pattern": 1,
                                "saml_signon_url_pattern": 2},
    "cylanceprotect": {"saml_identifier_pattern": 3, "saml_reply_url_pattern": 3},
    "xmatters-ondemand": {"saml_identifier_pattern": 2, "saml_reply_url_pattern": 1},
}
PICK_NOTES = {
    "coupa": "the source lists the staging host (sso-stg1) first; the production host (sso-prd1) is the default",
    "statuspage": "the source lists the staging host first; statuspage.io is the default",
    "sap-hana-cloud-platform": "the trial landscape (hanatrial) is listed first; hana.ondemand.com is the default",
    "cylanceprotect": "the source lists regional hosts first; the global login.cylance.com is the default",
    "xmatters-ondemand": "the source lists the Australian host first; xmatters.com is the default",
}

# ---------------------------------------------------------------------------
# Our own words: what kind of product each app is, only where we are sure.

KIND = {
    "15five": "Employee performance management", "4me": "IT service management",
    "8x8virtualoffice": "Cloud phone system and contact center", "a-cloud-guru": "Cloud skills training",
    "absorblms": "Learning management system", "adaptivesuite": "Financial planning",
    "adobe-creative-cloud": "Creative design software", "adobeexperiencemanager": "Content management system",
    "adobe-identity-management": "Adobe account sign-in", "adobe-echosign": "Electronic signatures",
    "adpfederatedsso": "Payroll and HR", "aha": "Product roadmapping", "airtable": "Collaborative databases",
    "airwatch": "Mobile device management", "akamai": "Zero-trust application access",
    "alchemer": "Online surveys", "amazon-business": "Business purchasing", "amplitude": "Product analytics",
    "anaplan": "Business planning", "appdynamics": "Application performance monitoring",
    "appian": "Low-code application platform", "apptio": "IT financial management",
    "ariba": "Procurement", "articulate360": "E-learning authoring", "asana": "Work management",
    "atlassian-cloud": "Jira, Confluence and other Atlassian cloud products",
    "auditboard": "Audit and risk management", "autodesk-sso": "Design and engineering software",
    "aws-single-sign-on": "AWS multi-account access", "amazon-web-service": "AWS account access",
    "bamboo-hr": "HR software", "betterworks": "Performance management",
    "bomgarremotesupport": "Remote support", "bigpanda": "IT incident management",
    "bitly": "Link shortening", "bonus": "Employee recognition", "boomi": "Integration platform",
    "box": "Cloud file storage", "brandfolder": "Digital asset management", "braze": "Customer engagement",
    "bridge": "Employee learning", "browserstack-single-sign-on": "Browser and device testing",
    "bugcrowd": "Crowdsourced security testing", "bugsnag": "Error monitoring",
    "bynder": "Digital asset management", "ceridiandayforcehcm": "Payroll and HR",
    "certify": "Expense management", "chargebee": "Subscription billing",
    "checkpoint-infinity-portal": "Security management portal", "cherwell": "IT service management",
    "chromeriver": "Expense management", "cisco-umbrella": "DNS security",
    "cisco-spark": "Team messaging and meetings", "cisco-webex": "Video meetings",
    "citrix-netscaler": "Application delivery controller", "citrix-cloud-saml-sso": "Virtual apps and desktops",
    "sharefile": "File sharing", "clickup-productivity-platform": "Project management",
    "coda": "Collaborative documents", "code42": "Endpoint backup and data protection",
    "collibra": "Data governance", "concur": "Travel and expense management",
    "confluencemicrosoft": "Team wiki (self-hosted)", "contentful": "Headless content management",
    "contentsquare-sso": "Digital experience analytics", "coralogix": "Log analytics",
    "cornerstone-ondemand": "Learning and talent management", "coupa": "Spend management",
    "crowdstrike-falcon-platform": "Endpoint security", "cyberark-saml-authentication": "Privileged access management",
    "cylanceprotect": "Endpoint security", "datacamp": "Data skills training", "datadog": "Monitoring and observability",
    "degreed": "Learning platform", "deputy": "Workforce scheduling", "digicert": "Certificate management",
    "docker": "Container development", "document360": "Knowledge base", "docusign": "Electronic signatures",
    "domo": "Business intelligence", "drift": "Conversational marketing", "dropboxforbusiness": "Cloud file storage",
    "druva": "Cloud backup", "dynatrace": "Monitoring and observability", "egnyte": "File sharing",
    "envoy": "Visitor and workplace management", "everbridge": "Critical event management",
    "evernote": "Note taking", "expensify": "Expense management", "ezofficeinventory": "Asset tracking",
    "factset": "Financial data and analytics", "fastly-edge-cloud": "Content delivery network",
    "figma": "Collaborative design", "five9": "Contact center", "flexera-one": "IT asset management",
    "floqast": "Accounting close management", "fortigate-ssl-vpn": "SSL VPN",
    "freshdesk": "Customer support help desk", "freshservice": "IT service management",
    "freshworks": "Customer service and sales software", "front": "Shared inbox",
    "frontify": "Brand management", "fullstory-saml": "Digital experience analytics",
    "gainsight": "Customer success", "purecloud-by-genesys": "Contact center",
    "github-enterprise-cloud-enterprise-account": "Code hosting (enterprise account)",
    "github": "Code hosting (organization)", "github-ae": "Code hosting (self-hosted)",
    "github-enterprise-managed-user": "Code hosting with managed user accounts",
    "golinks": "Short internal links", "google-apps": "Google Workspace and Google Cloud",
    "goto": "Meetings and remote support", "citrix-gotomeeting": "Online meetings",
    "greenhouse": "Applicant tracking", "guru": "Knowledge management", "hackerone": "Bug bounty and security testing",
    "harness": "Software delivery platform", "hashicorp-cloud-platform-hcp": "Managed HashiCorp products",
    "headspace": "Meditation and mental health", "helpscout": "Customer support help desk",
    "heroku": "Application hosting platform", "hirevue": "Video interviewing", "hootsuite": "Social media management",
    "hoxhunt": "Security awareness training", "hubspot": "CRM and marketing", "ibmid": "IBM account sign-in",
    "icims": "Applicant tracking", "infor-cloud-suite": "Enterprise resource planning",
    "informatica-intelligent-data-management-cloud": "Data integration and management",
    "intralinks": "Virtual data rooms", "invision": "Design prototyping",
    "ivanti-service-manager": "IT service management", "jamfprosamlconnector": "Apple device management",
    "jfrog-artifactory": "Artifact repository", "jiramicrosoft": "Issue tracking (self-hosted)",
    "jive": "Intranet and employee communication", "keeperpasswordmanager": "Password management",
    "kintone": "No-code business apps", "kisi-physical-security": "Physical access control",
    "kiteworks": "Secure file sharing", "klue": "Competitive intelligence",
    "knowbe4": "Security awareness training", "kronos-workforce-dimensions": "Workforce management",
    "lambda-test-single-sign-on": "Browser testing", "lattice": "Performance management",
    "launchdarkly": "Feature flags", "leapsome": "Performance and engagement",
    "learnupon": "Learning management system", "lessonly": "Employee training",
    "linkedinlearning": "Online courses", "linkedinsalesnavigator": "Sales prospecting",
    "linkedin-talent-solutions": "Recruiting", "logicmonitor": "Infrastructure monitoring",
    "logzio-cloud-observability-for-engineers": "Log analytics and observability",
    "looker-analytics-platform": "Business intelligence", "lucid": "Visual collaboration",
    "lucidchart": "Diagramming", "lusha": "B2B contact data", "m-files": "Document management",
    "marketo": "Marketing automation", "mend-io": "Application security", "menlosecurity": "Browser isolation",
    "meraki-dashboard": "Network management", "splunkenterpriseandsplunkcloud": "Log search and analytics",
    "mimecast-personal-portal": "Email security", "mindtickle": "Sales enablement",
    "miro": "Online whiteboard", "mixpanel": "Product analytics", "mobileiron": "Mobile device management",
    "mondaycom": "Work management", "mongodb-cloud": "Managed database",
    "moveittransfer": "Managed file transfer", "moveworks": "AI employee support",
    "mural-identity": "Online whiteboard", "skyhighnetworks": "Cloud access security broker",
    "namely": "HR software", "navan": "Travel and expense management", "navex-one": "Ethics and compliance",
    "neogov": "Public-sector HR", "netdocuments": "Legal document management",
    "netskope-cloud-security": "Cloud security (admin console)", "netskope-user-authentication": "Cloud security",
    "netsuite": "Enterprise resource planning", "new-relic-limited-release": "Observability",
    "new-relic": "Observability", "nice-cxone": "Contact center", "nitro-productivity-suite": "PDF and e-signature",
    "notion": "Notes and documents", "oreilly-learning-platform": "Online learning",
    "oneflow": "Contract management", "onestream": "Corporate performance management",
    "onetrust": "Privacy management", "onshape": "Cloud CAD", "opsgenie": "On-call alerting",
    "optimizely": "Experimentation and content management", "oracle-cloud": "Cloud infrastructure console",
    "oracle-fusion-erp": "Enterprise resource planning", "outsystems": "Low-code application platform",
    "pagerduty": "Incident response", "paloaltoadmin": "Firewall administration",
    "palo-alto-networks-globalprotect": "VPN", "pandadoc": "Document automation and e-signature",
    "panopto": "Video platform", "paylocity": "Payroll and HR", "peakon": "Employee engagement",
    "pendo": "Product analytics", "perimeter-81": "Network security", "pipedrive": "Sales CRM",
    "pleo": "Company spending cards", "pluralsight": "Technology skills training", "postman": "API platform",
    "prezi": "Presentations", "printerlogic-saas": "Print management", "printix": "Print management",
    "prisma-cloud": "Cloud security", "productboard": "Product management", "productplan": "Product roadmapping",
    "proofpoint-ondemand": "Email security", "proofpoint-security-awareness-training": "Security awareness training",
    "pulse-secure-pcs": "VPN", "qliksense-enterprise": "Business intelligence (self-hosted)",
    "rally-software": "Agile planning", "remotepc": "Remote desktop", "replicon": "Time tracking",
    "rfpio": "RFP response management", "ringcentral": "Cloud phone system", "rollbar": "Error monitoring",
    "rsa-archer-suite": "Governance, risk and compliance", "saba-cloud": "Talent management",
    "safety-culture": "Workplace inspections", "intacct": "Accounting",
    "sailpoint-identity-security-cloud": "Identity governance", "salesforce": "CRM",
    "salesforce-sandbox": "CRM (sandbox)", "sapboc": "Analytics and planning", "sapbusinessbydesign": "Enterprise resource planning",
    "sap-hana-cloud-platform": "Application platform", "sap-customer-cloud": "CRM",
    "sap-hana-cloud-platform-identity-authentication": "Identity services",
    "concur-travel-and-expense": "Travel and expense management", "fieldglass": "Contingent workforce management",
    "litmos": "Learning management system", "sap-netweaver": "Application server",
    "qualtrics": "Surveys and experience management", "sauce-labs": "Browser and device testing",
    "saviynt": "Identity governance", "secretserver-on-premises": "Privileged password vault (self-hosted)",
    "sectigo-certificate-manager": "Certificate management", "segment": "Customer data platform",
    "seismic": "Sales enablement", "sentry": "Error monitoring", "servicechannel": "Facilities maintenance",
    "servicenow": "IT service management", "shopify-plus": "E-commerce", "showpad": "Sales enablement",
    "sigma-computing": "Business intelligence", "slack": "Team messaging", "smartrecruiters": "Applicant tracking",
    "snowflake": "Cloud data warehouse", "solarwinds-orion": "Infrastructure monitoring (self-hosted)",
    "samanage": "IT service desk", "sonarqube": "Code quality analysis", "servicessosafe": "Security awareness training",
    "splashtop": "Remote desktop", "spring-cm": "Contract management", "sprinklr": "Customer experience management",
    "statuspage": "Status pages", "successfactors": "HR software", "sugarcrm": "CRM",
    "sumologic": "Log analytics", "surveymonkey-enterprise": "Online surveys", "symantec": "Web security gateway",
    "syncplicity": "File sharing", "tableauonline": "Data visualization", "tableauserver": "Data visualization (self-hosted)",
    "tanium-sso": "Endpoint management", "teamviewer": "Remote access", "teamwork": "Project management",
    "terraform-cloud": "Infrastructure as code", "terraform-enterprise": "Infrastructure as code (self-hosted)",
    "thousandeyes": "Network monitoring", "topdesk-public": "Service management (self-service portal)",
    "topdesk-secure": "Service management (operator console)", "tradeshift": "Supplier invoicing",
    "travelperk": "Business travel", "twilio-sendgrid": "Email delivery", "udemy-business-saml": "Online courses",
    "ultipro": "Payroll and HR", "upwork-enterprise": "Freelancer hiring", "usertesting-saml": "User research",
    "venafi-control-plane": "Machine identity management", "veracode": "Application security testing",
    "verkada-command": "Physical security management", "vmware-identity-service": "Identity service",
    "vonage": "Business communications", "walkme-saml": "Digital adoption", "wdesk": "Reporting and compliance",
    "whatfix": "Digital adoption", "wiz-sso": "Cloud security", "workable": "Applicant tracking",
    "workday": "HR and finance", "workfront": "Work management", "workplacebyfacebook": "Workplace communication",
    "wrike": "Work management", "xmatters-ondemand": "Incident alerting", "zendesk": "Customer support help desk",
    "zip": "Procurement", "zoho-mail": "Email", "zohoone": "Business software suite", "zoom": "Video meetings",
    "zoom-for-government": "Video meetings for government", "zscaler-internet-access-administrator": "Secure web gateway (admin console)",
    "zscalerprivateaccess": "Zero-trust private access", "zscalerprivateaccessadministrator": "Zero-trust private access (admin console)",
    "zylo": "SaaS management",
}

# Industries only where the product is built for one.
INDUSTRY_OF = {
    "zoom-for-government": ["government"],
    "neogov": ["government"],
    "netdocuments": ["legal"],
    "intralinks": ["financial_services"],
    "factset": ["financial_services"],
}

# ---------------------------------------------------------------------------

PLACEHOLDER = re.compile(
    r"<\s*([A-Za-z][^<>]*?)\s*>"          # <subdomain>, < UNIQUE ID >, <DOMAIN:PORT>
    r"|\{([A-Za-z][A-Za-z0-9_-]*)\}"      # {enterprise}, {your-accountId}
    r"|\[([A-Za-z][A-Za-z0-9 _-]*)\]"     # [FQDN of PCS]
)


def key_of(raw: str) -> str:
    return re.sub(r"[^a-z0-9]", "", raw.lower())


# Placeholders written as one run-together word, split for readable names.
SPLIT = {
    "companyname": "company_name", "instancename": "instance_name", "tenantname": "tenant_name",
    "customername": "customer_name", "domainname": "domain_name", "servername": "server_name",
    "uniqueid": "unique_id", "customid": "custom_id", "clientid": "client_id", "companyid": "company_id",
    "customerid": "customer_id", "entityid": "entity_id", "accountcode": "account_code",
    "munchkinid": "munchkin_id", "routeurl": "route_url", "regionname": "region_name",
    "companyspecificurl": "company_specific_url", "idpid": "idp_id", "yourdomain": "domain",
    "teamid": "team_id", "portnumber": "port_number", "projectname": "project_name",
    "yourbaseurl": "base_url", "splunkserver": "splunk_server", "samlsettingsid": "saml_settings_id",
    "dayforcehcmnamespace": "dayforce_hcm_namespace",
}


def snake(raw: str) -> str:
    if key_of(raw) in SPLIT:
        return SPLIT[key_of(raw)]
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", raw.strip())
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    s = re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_").lower()
    s = re.sub(r"^(your|my)_", "", s)
    if not s or s[0].isdigit():
        s = "v_" + s
    return s


def humanise(raw: str) -> str:
    raw = raw.strip()
    if key_of(raw) in NAME_OVERRIDES and len(NAME_OVERRIDES[key_of(raw)]) > 2:
        return NAME_OVERRIDES[key_of(raw)][2]
    if " " in raw and not raw.isupper():
        return raw[:1].upper() + raw[1:]
    words = snake(raw).split("_")
    text = " ".join(words)
    for short, full in (("id", "ID"), ("url", "URL"), ("fqdn", "FQDN"), ("uuid", "UUID"),
                        ("guid", "GUID"), ("ip", "IP"), ("api", "API"), ("dns", "DNS"), ("tfe", "TFE"),
                        ("hcp", "HCP"), ("idp", "IdP"), ("saml", "SAML"), ("spn", "SPN"), ("ouid", "OUID"),
                        ("sso", "SSO"), ("uri", "URI"), ("hcm", "HCM"), ("github", "GitHub")):
        text = re.sub(rf"\b{short}\b", full, text)
    return text[:1].upper() + text[1:]


class Variable:
    def __init__(self, name: str, label: str, rule: str, original: str):
        self.name, self.label, self.rule, self.original = name, label, rule, original


STRICTNESS = ["dns_label", "port", "uuid", "domain", "hostname", "identifier"]


def position_of(text: str, start: int, end: int) -> str:
    """Where a placeholder sits: host-first, host-label, host-last, host, port or other."""
    # Only web URLs have a host to validate; pleoio://<CUSTOMER_ID> is a name.
    m = re.match(r"^https?://", text, re.IGNORECASE)
    if m:
        auth_start = m.end()
    elif re.match(r"^[A-Za-z0-9<\[{][^/:\s]*\.[A-Za-z]", text) and not text.startswith("urn:"):
        auth_start = 0  # a bare host such as <companyname>.zoom.us
    else:
        return "other"
    rest = text[auth_start:]
    stop = re.search(r"[/?#]", rest)
    auth_end = auth_start + (stop.start() if stop else len(rest))
    if not (auth_start <= start and end <= auth_end):
        return "other"
    # A placeholder right after the host's colon is a port.
    if start > auth_start and text[start - 1] == ":":
        return "port"
    if start == auth_start and (end == auth_end or text[end] == ":"):
        return "host"
    before = text[auth_start:start]
    after = text[end:auth_end].split(":")[0]
    if after == "" and before.endswith("."):
        return "host-last"
    return "host-first" if start == auth_start else "host-label"


def rule_for(key: str, pos: str) -> str:
    if key in NAME_OVERRIDES:
        return NAME_OVERRIDES[key][1]
    if pos == "host":
        return "hostname"
    if pos == "port" or key.endswith("port") and pos not in ("host-first", "host-label"):
        return "port"
    if pos == "host-last":
        return "domain"
    if pos in ("host-first", "host-label"):
        return "dns_label"
    if "uuid" in key or "guid" in key:
        return "uuid"
    return "identifier"


class Templater:
    """Converts one row's cells to templates, collecting the row's variables."""

    def __init__(self, notes: list[str]):
        self.vars: dict[str, Variable] = {}
        self.names: dict[str, str] = {}  # placeholder key -> variable name
        self.notes = notes

    def convert(self, value: str) -> str | None:
        value = value.strip()
        if not value or "*" in value:
            return None
        out, last = [], 0
        pending = []
        for m in PLACEHOLDER.finditer(value):
            raw = next(g for g in m.groups() if g is not None)
            pos = position_of(value, m.start(), m.end())
            pending.append((m, raw, pos))
        for m, raw, pos in pending:
            name = self.declare(raw, pos)
            out.append(escape_braces(value[last:m.start()]))
            out.append("{" + name + "}")
            last = m.end()
        out.append(escape_braces(value[last:]))
        return "".join(out)

    def declare(self, raw: str, pos: str) -> str:
        key = key_of(raw)
        if key in self.names:
            canonical = self.names[key]
        elif key in NAME_OVERRIDES:
            canonical = NAME_OVERRIDES[key][0]
        elif pos == "host-first" and key in SUBDOMAIN_SYNONYMS:
            # Two spellings in this position (Litmos writes <CustomerName> and
            # <CompanyName>) are the same tenant subdomain and share the variable.
            canonical = "subdomain"
        elif pos == "host" and any(w in key for w in HOST_WORDS):
            canonical = "host"
        else:
            canonical = snake(raw)
            taken = {self.names[k] for k in self.names}
            if canonical in taken:
                # A different placeholder already owns the name (Tanium has both
                # <InstanceName>.… as its subdomain and an inner <SUBDOMAIN> label).
                canonical = canonical + "_2"
                self.notes.append(f"named {raw!r} {canonical!r} to keep it apart from another placeholder")
        self.names[key] = canonical
        rule = rule_for(key, pos)
        existing = self.vars.get(canonical)
        if existing is None:
            label = "Subdomain" if canonical == "subdomain" and key in VAGUE_SUBDOMAIN else humanise(raw)
            self.vars[canonical] = Variable(canonical, label, rule, raw)
        elif STRICTNESS.index(rule) < STRICTNESS.index(existing.rule):
            # The same value used as a DNS label and as a path segment must satisfy both.
            existing.rule = rule
        return canonical


def escape_braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def sample_for(var: Variable) -> str:
    pattern, sample = RULES[var.rule]
    if var.rule == "dns_label" and ("uuid" in key_of(var.original) or "guid" in key_of(var.original)):
        return RULES["uuid"][1]
    if sample is not None:
        if var.rule == "hostname" and "port" in key_of(var.original):
            return "sso.example.com:8443"
        return sample
    key = key_of(var.original)
    if key.endswith("id") or "identifier" in key or key.endswith("hash") or key.endswith("key"):
        return "a1b2c3d4"
    if "region" in key:
        return "us1"
    if key.startswith("env"):
        return "prod"
    return "acme"


def render_sample(template: str, vars: dict[str, Variable]) -> str:
    def sub(m: re.Match) -> str:
        if m.group(0) in ("{{", "}}"):
            return m.group(0)[0]
        return sample_for(vars[m.group(1)])
    return re.sub(r"\{\{|\}\}|\{([a-z0-9_]+)\}", sub, template)


def is_url(text: str, https_only: bool) -> bool:
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    if parts.scheme not in (("https",) if https_only else ("https", "http")):
        return False
    host = parts.hostname or ""
    if not host or host.startswith(".") or ".." in host or " " in text:
        return False
    try:
        parts.port
    except ValueError:
        return False
    return re.fullmatch(r"[A-Za-z0-9.-]+", host) is not None


def usable(field: str, template: str, vars: dict[str, Variable]) -> bool:
    rendered = render_sample(template, vars)
    if field == "audience":
        if re.search(r"\s", rendered):
            return False
        if "://" in rendered:
            return is_url(rendered, https_only=False) or not rendered.startswith("http")
        return True
    if field == "default_relay_state":
        return rendered.strip() != ""
    return is_url(rendered, https_only=True)


COLUMNS = {
    "saml_reply_url_pattern": "acs_url",
    "saml_identifier_pattern": "audience",
    "saml_signon_url_pattern": "sign_on_url",
    "relay_state": "default_relay_state",
}

# Claim names that are standard attribute OIDs or obvious profile fields, mapped to
# the gateway's user profile expressions. Anything else gets no default value.
CLAIM_VALUES = {
    "urn:oid:2.5.4.42": "user.firstName", "urn:oid:2.5.4.4": "user.lastName",
    "urn:oid:0.9.2342.19200300.100.1.3": "user.email", "urn:oid:0.9.2342.19200300.100.1.1": "user.login",
    "email": "user.email", "emailaddress": "user.email", "mail": "user.email",
    "firstname": "user.firstName", "givenname": "user.firstName", "first": "user.firstName",
    "lastname": "user.lastName", "familyname": "user.lastName", "sn": "user.lastName", "last": "user.lastName",
    "displayname": "user.displayName", "title": "user.title", "department": "user.department",
    "country": "user.countryCode", "city": "user.city", "state": "user.state", "zipcode": "user.zipCode",
    "street": "user.streetAddress", "phonenumber": "user.primaryPhone", "phone": "user.primaryPhone",
    "employeenumber": "user.employeeNumber", "username": "user.login",
}


def claim_value(name: str) -> str | None:
    if name.startswith("urn:oid:"):
        return CLAIM_VALUES.get(name)
    return CLAIM_VALUES.get(re.sub(r"[^a-z]", "", name.lower()))


def build_entry(row: dict) -> dict:
    slug = row["slug"]
    flags = [f for f in row["flags"].split(",") if f]
    notes: list[str] = []
    cells = {c: row[c] for c in COLUMNS}

    for column, old, new, note in ROW_FIXES.get(slug, []):
        if old is None:
            cells[column] = ""
        else:
            if old not in cells[column]:
                raise SystemExit(f"{slug}: fix for {column} no longer applies ({old!r})")
            cells[column] = cells[column].replace(old, new)
        if note:
            notes.append(note)

    if "identifier-values-are-examples" in flags and cells["saml_identifier_pattern"]:
        cells["saml_identifier_pattern"] = ""
        notes.append("dropped the identifier: the source says its values are examples")
    if "signon-values-are-examples" in flags and cells["saml_signon_url_pattern"]:
        cells["saml_signon_url_pattern"] = ""
        notes.append("dropped the sign-on URL: the source says its values are examples")
    if slug in PICK_NOTES:
        notes.append(PICK_NOTES[slug])

    templater = Templater(notes)
    saml: dict = {}
    for column, field in COLUMNS.items():
        raw_values = [v for v in cells[column].split(" ; ") if v.strip()]
        if not raw_values:
            continue
        first = PICK.get(slug, {}).get(column, 0)
        ordered = [raw_values[first]] + raw_values[:first] + raw_values[first + 1:]
        converted = []
        for raw in ordered:
            t = templater.convert(raw)
            if t is None:
                notes.append(f"dropped {field} value {raw.strip()!r}: wildcards are not templates")
                continue
            converted.append((raw, t))
        kept = []
        for raw, t in converted:
            if usable(field, t, templater.vars):
                if t not in kept:
                    kept.append(t)
            else:
                notes.append(f"dropped {field} value {raw.strip()!r}: not a usable {'URL' if field != 'audience' else 'identifier'}")
        if not kept:
            continue
        saml[field] = kept[0]
        if len(kept) > 1 and field != "default_relay_state":
            saml[field + "_alternatives"] = kept[1:]
        elif len(kept) > 1:
            notes.append("the source gives several relay states; the first is the default")

    # Keep only the variables that ended up in a kept template.
    used = set()
    for v in saml.values():
        for t in (v if isinstance(v, list) else [v]):
            used.update(re.findall(r"(?<!\{)\{([a-z0-9_]+)\}", t))
    variables = [v for v in templater.vars.values() if v.name in used]

    modes = [m for m in row["sso_modes"].split(",") if m]
    functionality = [MODE_TO_FUNCTIONALITY[m] for m in modes if m in MODE_TO_FUNCTIONALITY]
    functionality = [f for f in FUNCTIONALITY if f in functionality]
    use_cases = []
    if any(f in functionality for f in ("SAML", "OIDC", "WS_FEDERATION", "SWA")):
        use_cases.append("sso")
    if "SCIM" in functionality:
        use_cases.append("provisioning")
    if row["jit_provisioning"] == "yes":
        use_cases.append("jit_provisioning")

    if "SAML" in functionality:
        if row["sp_initiated"] == "yes":
            saml["sp_initiated"] = True
        if row["idp_initiated"] == "yes":
            saml["idp_initiated"] = True
        claims = [c.strip() for c in row["saml_claims"].split(",") if c.strip()]
        if claims:
            saml["attribute_statements"] = [
                {k: v for k, v in (("name", c), ("value", claim_value(c))) if v is not None}
                for c in claims
            ]
        if not any(k in saml for k in ("acs_url", "audience", "sign_on_url")):
            reason = {
                "sp-metadata-upload": "the app's SP metadata is uploaded instead",
                "preintegrated": "the vendor's gallery entry prefills them",
                "values-from-app-admin": "the admin copies them from the app's own admin console",
            }
            why = [reason[f] for f in flags if f in reason]
            notes.append("the source gives no identifier or reply URL"
                         + (": " + "; ".join(why) if why else ""))

    label = row["app_name"].strip()
    description = describe(label, slug, functionality, row, saml)

    return {
        "name": slug.replace("-", "_"),
        "label": label,
        "description": description,
        "use_cases": use_cases,
        "functionality": functionality,
        "industries": INDUSTRY_OF.get(slug, []),
        "variables": variables,
        "saml": saml if "SAML" in functionality else None,
        "source": {
            "slug": slug,
            "file": row["sso_source_file"] or row["scim_source_file"],
            "commit": row["source_commit"],
            "flags": flags,
            "notes": notes,
        },
    }


def describe(label: str, slug: str, functionality: list[str], row: dict, saml: dict) -> str:
    facts = []
    if "SAML" in functionality:
        modes = [m for m, key in (("SP", "sp_initiated"), ("IdP", "idp_initiated")) if row[key] == "yes"]
        facts.append("SAML 2.0 single sign-on" + (f" ({'- and '.join(modes)}-initiated)" if modes else ""))
    if row["jit_provisioning"] == "yes":
        facts.append("just-in-time user creation")
    if "SCIM" in functionality:
        facts.append("automated user provisioning")
    sentence = f"{label} integration: " + ", ".join(facts) + "."
    kind = KIND.get(slug)
    return f"{kind}. {sentence}" if kind else sentence


# ---------------------------------------------------------------------------
# TOML output (written by hand so that the layout is stable and readable).

def q(s: str) -> str:
    out = s.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + out + '"'


def qlist(items: list[str]) -> str:
    return "[" + ", ".join(q(i) for i in items) + "]"


def to_toml(e: dict) -> str:
    lines = [
        f"# Generated by catalog-data/tools/generate.py from entra-saas-apps.tsv row {q(e['source']['slug'])}.",
        "# Derived from Microsoft Entra documentation (CC BY 4.0); see catalog-data/NOTICE.",
        "",
        f"name = {q(e['name'])}",
        f"label = {q(e['label'])}",
        f"description = {q(e['description'])}",
        f"use_cases = {qlist(e['use_cases'])}",
        f"functionality = {qlist(e['functionality'])}",
        f"industries = {qlist(e['industries'])}",
    ]
    for v in e["variables"]:
        lines += [
            "",
            "[[variables]]",
            f"name = {q(v.name)}",
            f"label = {q(v.label)}",
            f"pattern = {q('^' + RULES[v.rule][0] + '$')}",
            f"sample = {q(sample_for(v))}",
        ]
    saml = e["saml"]
    if saml is not None:
        lines += ["", "[saml]"]
        for key in ("acs_url", "acs_url_alternatives", "audience", "audience_alternatives",
                    "sign_on_url", "sign_on_url_alternatives", "default_relay_state",
                    "sp_initiated", "idp_initiated"):
            if key not in saml:
                continue
            val = saml[key]
            if isinstance(val, bool):
                lines.append(f"{key} = {'true' if val else 'false'}")
            elif isinstance(val, list):
                lines.append(f"{key} = [")
                lines += [f"  {q(x)}," for x in val]
                lines.append("]")
            else:
                lines.append(f"{key} = {q(val)}")
        for attr in saml.get("attribute_statements", []):
            lines += ["", "[[saml.attribute_statements]]", f"name = {q(attr['name'])}"]
            if "value" in attr:
                lines.append(f"value = {q(attr['value'])}")
    src = e["source"]
    lines += [
        "",
        "[source]",
        f"slug = {q(src['slug'])}",
        f"file = {q(src['file'])}",
        f"commit = {q(src['commit'])}",
        f"flags = {qlist(src['flags'])}",
    ]
    if src["notes"]:
        lines.append("notes = [")
        lines += [f"  {q(n)}," for n in src["notes"]]
        lines.append("]")
    return "\n".join(lines) + "\n"


def check(out: str, expected: dict[str, str]) -> int:
    """Compares the directory with the would-be output, like a golden-file test."""
    present = {f for f in os.listdir(out) if f.endswith(".toml")} if os.path.isdir(out) else set()
    problems = [f"missing {f}" for f in sorted(set(expected) - present)]
    problems += [f"not generated: {f}" for f in sorted(present - set(expected))]
    for f in sorted(present & set(expected)):
        with open(os.path.join(out, f), encoding="utf-8") as fh:
            if fh.read() != expected[f]:
                problems.append(f"differs: {f}")
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tsv", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 if --out differs from what would be generated")
    args = ap.parse_args()

    with open(args.tsv, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))

    entries = [build_entry(r) for r in rows if r["patterns_extracted"] == "yes"]
    names = [e["name"] for e in entries]
    if len(set(names)) != len(names):
        raise SystemExit("duplicate entry names")
    unknown = set(KIND) - {e["source"]["slug"] for e in entries}
    if unknown:
        raise SystemExit(f"KIND names unknown slugs: {sorted(unknown)}")

    wanted = {e["name"] + ".toml" for e in entries}
    if args.check:
        return check(args.out, {e["name"] + ".toml": to_toml(e) for e in entries})
    os.makedirs(args.out, exist_ok=True)
    for stale in set(os.listdir(args.out)) - wanted:
        if stale.endswith(".toml"):
            os.remove(os.path.join(args.out, stale))
    for e in entries:
        with open(os.path.join(args.out, e["name"] + ".toml"), "w", encoding="utf-8") as f:
            f.write(to_toml(e))
    print(f"wrote {len(entries)} entries to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
