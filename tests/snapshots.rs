//! Every output format of every scenario, pinned (`cargo insta review` after a deliberate change).

mod common;

use kvdiag::render::{Format, Style, render};

#[test]
fn every_output_format_of_every_scenario() {
    for (name, path) in common::scenarios() {
        let verdict = common::verdict_of(&path);
        for (format, suffix) in [
            (Format::Table, "table"),
            (Format::Markdown, "md"),
            (Format::Json, "json"),
        ] {
            let text = render(
                &verdict,
                format,
                Style {
                    color: false,
                    width: 120,
                    wrap: false,
                },
            );
            insta::assert_snapshot!(format!("{name}.{suffix}"), text);
        }
    }
}
