//! The Admin Console's application pages: the Applications list, Browse App
//! Catalog, an entry's details, Add Integration, Create App Integration, and
//! an app's Assignments tab.

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
