//! Runs one search against catalog-data/apps and prints the result names.
//!
//! `cargo run -p catalog --example query -- "search words"`

fn main() {
    let text = std::env::args().nth(1).unwrap_or_default();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../catalog-data/apps");
    let files: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("catalog-data/apps exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    let catalog = match catalog::Catalog::from_files(files) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let query = catalog::Query {
        text: &text,
        limit: Some(10),
        ..Default::default()
    };
    let page = catalog.search(&query).unwrap();
    for app in page.apps {
        println!("{:<40} {}", app.name(), app.label());
    }
}
