//! The fixed vocabularies an entry may use. catalog-data/README.md documents each value.

use serde::Serialize;

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every value, in documentation order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The spelling used in catalog files and in the API.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }

            /// Parses the exact spelling used in catalog files and in the API.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// The list of valid spellings, for error messages.
            pub(crate) fn expected() -> String {
                [$($text,)+].join(", ")
            }

            /// A bit unique to this value, for precomputed filter masks.
            #[allow(dead_code)] // Not every vocabulary is a search filter.
            pub(crate) fn bit(self) -> u32 {
                1 << (self as u32)
            }
        }
    };
}

vocabulary! {
    /// What an admin can use the integration for.
    UseCase {
        /// Users sign in to the app through Vestibule.
        Sso = "sso",
        /// Vestibule creates, updates and deactivates the app's accounts.
        Provisioning = "provisioning",
        /// The app creates an account on a user's first single sign-on.
        JitProvisioning = "jit_provisioning",
    }
}

vocabulary! {
    /// How Vestibule talks to the app.
    Functionality {
        /// SAML 2.0 Web Browser SSO.
        Saml = "SAML",
        /// OpenID Connect.
        Oidc = "OIDC",
        /// WS-Federation passive requestor.
        WsFederation = "WS_FEDERATION",
        /// Secure web authentication: Vestibule fills the app's login form.
        Swa = "SWA",
        /// SCIM 2.0 provisioning (or the app's own provisioning API).
        Scim = "SCIM",
        /// A link on the user's dashboard, with no sign-on protocol.
        Bookmark = "BOOKMARK",
    }
}

vocabulary! {
    /// Industries an app is built for. Most apps serve every industry and list none.
    Industry {
        Education = "education",
        FinancialServices = "financial_services",
        Government = "government",
        Healthcare = "healthcare",
        Legal = "legal",
        Retail = "retail",
    }
}

vocabulary! {
    /// What a SCIM connector can do in the app.
    ScimOperation {
        /// Create users.
        Create = "create",
        /// Update user attributes.
        Update = "update",
        /// Deactivate users.
        Deactivate = "deactivate",
        /// Push groups and their members.
        Groups = "groups",
        /// Import users from the app.
        Import = "import",
    }
}
