//! A validated catalog entry and its per-protocol templates.
//!
//! These types serialize (camelCase) to the shape the gateway returns from
//! `GET /api/v1/catalog/apps/{name}`.

use serde::Serialize;

use crate::error::Error;
use crate::template::{check_shape, Shape, Template, TenantValues, Variable};
use crate::vocab::{Functionality, Industry, ScimOperation, UseCase};

/// The NameID format used when an entry names none (SAML 2.0 Core §8.3.1).
pub const UNSPECIFIED_NAME_ID_FORMAT: &str =
    "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";

/// NameID formats an entry may name (SAML 2.0 Core §8.3).
pub const NAME_ID_FORMATS: &[&str] = &[
    UNSPECIFIED_NAME_ID_FORMAT,
    "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
    "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:kerberos",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:entity",
];

/// One prebuilt integration.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppEntry {
    pub(crate) name: String,
    #[serde(rename = "displayName")]
    pub(crate) label: String,
    pub(crate) description: String,
    pub(crate) use_cases: Vec<UseCase>,
    pub(crate) functionality: Vec<Functionality>,
    pub(crate) industries: Vec<Industry>,
    pub(crate) variables: Vec<Variable>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) saml: Option<SamlTemplate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) oidc: Option<OidcTemplate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) swa: Option<SwaTemplate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) scim: Option<ScimTemplate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) bookmark: Option<BookmarkTemplate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) source: Option<Source>,
}

/// SAML 2.0 settings for the app as a service provider.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SamlTemplate {
    /// Assertion Consumer Service URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acs_url: Option<Template>,
    /// Other ACS URLs the vendor documents (regions, environments).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub acs_url_alternatives: Vec<Template>,
    /// Audience restriction / SP entity ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<Template>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub audience_alternatives: Vec<Template>,
    /// Where SP-initiated sign-on starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_on_url: Option<Template>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sign_on_url_alternatives: Vec<Template>,
    /// RelayState for IdP-initiated sign-on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_relay_state: Option<Template>,
    pub name_id_format: String,
    pub sp_initiated: bool,
    pub idp_initiated: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attribute_statements: Vec<AttributeStatement>,
}

/// An attribute the app expects in the assertion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeStatement {
    pub name: String,
    /// A profile expression such as `user.email`; absent when the admin must choose.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// OpenID Connect settings for the app as a relying party.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OidcTemplate {
    pub redirect_uris: Vec<Template>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub post_logout_redirect_uris: Vec<Template>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initiate_login_uri: Option<Template>,
}

/// Secure web authentication: the form Vestibule fills in.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SwaTemplate {
    pub login_url: Template,
    /// The username input's `name` attribute or CSS selector.
    pub username_field: String,
    /// The password input's `name` attribute or CSS selector.
    pub password_field: String,
}

/// SCIM provisioning settings.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimTemplate {
    pub base_url: Template,
    pub operations: Vec<ScimOperation>,
}

/// A dashboard link.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BookmarkTemplate {
    pub url: Template,
}

/// Where an entry's facts came from, for attribution and review.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// SAML settings with the tenant's values filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RenderedSaml {
    pub acs_url: Option<String>,
    pub audience: Option<String>,
    pub sign_on_url: Option<String>,
    pub default_relay_state: Option<String>,
    pub name_id_format: String,
}

impl AppEntry {
    /// The stable key, which is also the file name without `.toml`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The display name.
    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    pub fn use_cases(&self) -> &[UseCase] {
        &self.use_cases
    }

    pub fn functionality(&self) -> &[Functionality] {
        &self.functionality
    }

    pub fn industries(&self) -> &[Industry] {
        &self.industries
    }

    pub fn variables(&self) -> &[Variable] {
        &self.variables
    }

    pub fn saml(&self) -> Option<&SamlTemplate> {
        self.saml.as_ref()
    }

    pub fn oidc(&self) -> Option<&OidcTemplate> {
        self.oidc.as_ref()
    }

    pub fn swa(&self) -> Option<&SwaTemplate> {
        self.swa.as_ref()
    }

    pub fn scim(&self) -> Option<&ScimTemplate> {
        self.scim.as_ref()
    }

    pub fn bookmark(&self) -> Option<&BookmarkTemplate> {
        self.bookmark.as_ref()
    }

    pub fn source(&self) -> Option<&Source> {
        self.source.as_ref()
    }

    /// Each variable's sample value: a set of values every template accepts.
    pub fn sample_values(&self) -> TenantValues {
        self.variables
            .iter()
            .map(|v| (v.name.clone(), v.sample.clone()))
            .collect()
    }

    /// Checks tenant values against every variable the entry declares.
    pub fn check_values(&self, values: &TenantValues) -> Result<(), Error> {
        for variable in &self.variables {
            let value = values
                .get(&variable.name)
                .ok_or_else(|| Error::MissingValue {
                    variable: variable.name.clone(),
                })?;
            variable.check(value)?;
        }
        Ok(())
    }

    /// Renders one of the entry's templates with tenant values and checks the result.
    pub(crate) fn render(
        &self,
        field: &str,
        template: &Template,
        shape: Shape,
        values: &TenantValues,
    ) -> Result<String, Error> {
        let rendered = template.render(&self.variables, values)?;
        check_shape(shape, &rendered).map_err(|problem| Error::Rendered {
            field: field.to_owned(),
            rendered: rendered.clone(),
            problem,
        })?;
        Ok(rendered)
    }

    /// Renders one of this entry's endpoint templates (an OIDC redirect URI, the SCIM
    /// base URL, the SWA login URL, a bookmark, a SAML alternative) for a tenant,
    /// checking that the result is an absolute https URL.
    pub fn render_url(&self, template: &Template, values: &TenantValues) -> Result<String, Error> {
        self.render("url", template, Shape::Endpoint, values)
    }

    /// The SAML settings for one tenant, or `None` if the entry has no SAML section.
    pub fn render_saml(&self, values: &TenantValues) -> Result<Option<RenderedSaml>, Error> {
        let Some(saml) = &self.saml else {
            return Ok(None);
        };
        let render = |field: &str, t: &Option<Template>, shape| {
            t.as_ref()
                .map(|t| self.render(field, t, shape, values))
                .transpose()
        };
        Ok(Some(RenderedSaml {
            acs_url: render("saml.acs_url", &saml.acs_url, Shape::Endpoint)?,
            audience: render("saml.audience", &saml.audience, Shape::EntityId)?,
            sign_on_url: render("saml.sign_on_url", &saml.sign_on_url, Shape::Endpoint)?,
            default_relay_state: render(
                "saml.default_relay_state",
                &saml.default_relay_state,
                Shape::Text,
            )?,
            name_id_format: saml.name_id_format.clone(),
        }))
    }

    /// Every template of the entry with its field path and shape, for validation.
    pub(crate) fn templates(&self) -> Vec<(String, &Template, Shape)> {
        type Out<'a> = Vec<(String, &'a Template, Shape)>;
        fn one<'a>(out: &mut Out<'a>, field: &str, t: Option<&'a Template>, shape: Shape) {
            if let Some(t) = t {
                out.push((field.to_owned(), t, shape));
            }
        }
        fn list<'a>(out: &mut Out<'a>, field: &str, ts: &'a [Template], shape: Shape) {
            for (i, t) in ts.iter().enumerate() {
                out.push((format!("{field}[{i}]"), t, shape));
            }
        }
        let mut out = Vec::new();
        if let Some(s) = &self.saml {
            one(
                &mut out,
                "saml.acs_url",
                s.acs_url.as_ref(),
                Shape::Endpoint,
            );
            list(
                &mut out,
                "saml.acs_url_alternatives",
                &s.acs_url_alternatives,
                Shape::Endpoint,
            );
            one(
                &mut out,
                "saml.audience",
                s.audience.as_ref(),
                Shape::EntityId,
            );
            list(
                &mut out,
                "saml.audience_alternatives",
                &s.audience_alternatives,
                Shape::EntityId,
            );
            one(
                &mut out,
                "saml.sign_on_url",
                s.sign_on_url.as_ref(),
                Shape::Endpoint,
            );
            list(
                &mut out,
                "saml.sign_on_url_alternatives",
                &s.sign_on_url_alternatives,
                Shape::Endpoint,
            );
            one(
                &mut out,
                "saml.default_relay_state",
                s.default_relay_state.as_ref(),
                Shape::Text,
            );
        }
        if let Some(o) = &self.oidc {
            list(
                &mut out,
                "oidc.redirect_uris",
                &o.redirect_uris,
                Shape::Endpoint,
            );
            list(
                &mut out,
                "oidc.post_logout_redirect_uris",
                &o.post_logout_redirect_uris,
                Shape::Endpoint,
            );
            one(
                &mut out,
                "oidc.initiate_login_uri",
                o.initiate_login_uri.as_ref(),
                Shape::Endpoint,
            );
        }
        if let Some(w) = &self.swa {
            one(
                &mut out,
                "swa.login_url",
                Some(&w.login_url),
                Shape::Endpoint,
            );
        }
        if let Some(c) = &self.scim {
            one(
                &mut out,
                "scim.base_url",
                Some(&c.base_url),
                Shape::Endpoint,
            );
        }
        if let Some(b) = &self.bookmark {
            one(&mut out, "bookmark.url", Some(&b.url), Shape::Endpoint);
        }
        out
    }
}
