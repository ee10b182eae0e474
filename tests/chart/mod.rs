//! Charts of the real samples: they render, at the requested size, the same
//! bytes every time. Set `CORONER_CHART_DIR` to also write them there (to look
//! at them).

use crate::common::{SCENARIOS, read_all, sample};
use coroner::render::chart::{chart_input_from, render_png, render_svg};

fn failing_of(name: &str) -> Option<&'static str> {
    match name {
        "node-freeze" => Some("n3"),
        "crash-restart" => Some("n1"),
        "slow-consumer" => Some("n3"),
        "store-full" => Some("n2"),
        "mqtt-storm" => Some("n2"),
        _ => None,
    }
}

#[test]
fn real_samples_render() {
    let out_dir = std::env::var_os("CORONER_CHART_DIR").map(std::path::PathBuf::from);
    for name in SCENARIOS {
        let path = sample(name);
        let bundle = read_all(&[path.as_path()]);
        let metrics = coroner::analyze::metric_set(&bundle);
        let mut input = chart_input_from(
            &bundle,
            &metrics,
            &[],
            failing_of(name).map(Into::into),
            None,
        );
        input.title = format!("{name}: NATS cluster timeline");
        assert!(!input.nodes.is_empty(), "{name}: no nodes");
        let png = render_png(&input, 1600, 900).unwrap();
        assert_eq!(&png[1..4], b"PNG", "{name}");
        assert_eq!(
            png,
            render_png(&input, 1600, 900).unwrap(),
            "{name}: not deterministic"
        );
        let svg = render_svg(&input, 1600, 900).unwrap();
        if let Some(dir) = &out_dir {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
            std::fs::write(dir.join(format!("{name}.svg")), &svg).unwrap();
        }
    }
}
