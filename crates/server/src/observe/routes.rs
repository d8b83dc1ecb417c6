//! Route templates. A concrete path can hold a session id, and a query string a token, so
//! neither ever reaches a log line or a metric label: a request is known by the template of
//! the operation it matched (`/api/v1/sessions/{id}`), taken from the API's own OpenAPI
//! document so the list cannot drift from the routes. Anything else is [`UNMATCHED`],
//! however many different paths a scanner tries (one label, not one per path).

/// The label of a path that matches no route.
pub const UNMATCHED: &str = "unmatched";

/// The paths served outside the API's document.
const EXTRA: &[&str] = &["/openapi.json", "/openapi.yaml", "/docs"];

pub struct RouteTemplates {
    /// Each template split into segments; `None` stands for a `{parameter}`.
    templates: Vec<(String, Vec<Option<String>>)>,
}

impl RouteTemplates {
    /// The templates of the API's operations (the keys of its document's `paths`).
    pub fn of_api() -> RouteTemplates {
        let spec: serde_json::Value =
            serde_json::from_str(&crate::api::service().spec()).unwrap_or_default();
        let paths = spec["paths"]
            .as_object()
            .map(|paths| paths.keys().cloned().collect())
            .unwrap_or_default();
        RouteTemplates::new(paths)
    }

    pub fn new(paths: Vec<String>) -> RouteTemplates {
        let templates = paths
            .into_iter()
            .chain(EXTRA.iter().map(|path| path.to_string()))
            .map(|template| {
                let segments = template
                    .split('/')
                    .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_owned()))
                    .collect();
                (template, segments)
            })
            .collect();
        RouteTemplates { templates }
    }

    /// The template `path` (without its query) matches; where two match, the one with more
    /// literal segments (`/sessions/others` before `/sessions/{id}`).
    pub fn template(&self, path: &str) -> &str {
        if path == "/docs" || path.starts_with("/docs/") {
            return "/docs";
        }
        let segments: Vec<&str> = path.split('/').collect();
        self.templates
            .iter()
            .filter(|(_, template)| {
                template.len() == segments.len()
                    && template.iter().zip(&segments).all(|(t, s)| match t {
                        Some(literal) => literal == s,
                        None => !s.is_empty(),
                    })
            })
            .max_by_key(|(_, template)| template.iter().filter(|t| t.is_some()).count())
            .map_or(UNMATCHED, |(name, _)| name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_becomes_its_template_never_its_id() {
        let routes = RouteTemplates::of_api();
        assert_eq!(
            routes.template("/api/v1/auth/signin"),
            "/api/v1/auth/signin"
        );
        assert_eq!(
            routes.template("/api/v1/sessions/0f3c9a"),
            "/api/v1/sessions/{id}"
        );
        assert_eq!(routes.template("/readyz"), "/readyz");
        assert_eq!(routes.template("/docs/index.css"), "/docs");
        for unknown in [
            "/",
            "/wp-admin",
            "/api/v1/sessions/a/b",
            "/api/v1/sessions/",
        ] {
            assert_eq!(routes.template(unknown), UNMATCHED, "{unknown}");
        }
    }

    #[test]
    fn a_literal_segment_wins_over_a_parameter() {
        let routes = RouteTemplates::new(vec!["/s/{id}".into(), "/s/others".into()]);
        assert_eq!(routes.template("/s/others"), "/s/others");
        assert_eq!(routes.template("/s/x"), "/s/{id}");
    }
}
