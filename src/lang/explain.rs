//! Rules in words, for `coroner rules explain`.

use super::ir::*;
use crate::model::format_duration;

fn sel(s: &Sel) -> String {
    let kinds = match &s.kinds {
        None => "any log line".to_string(),
        Some(k) => format!(
            "a `{}` line",
            k.iter().map(|k| &**k).collect::<Vec<_>>().join("` or `")
        ),
    };
    match &s.pred {
        Some(_) => format!("{kinds} matching its condition"),
        None => kinds,
    }
}

fn plural(s: &Sel) -> String {
    let kinds = match &s.kinds {
        None => "log lines".to_string(),
        Some(k) => format!(
            "`{}` lines",
            k.iter().map(|k| &**k).collect::<Vec<_>>().join("` or `")
        ),
    };
    match &s.pred {
        Some(_) => format!("{kinds} matching the condition"),
        None => kinds,
    }
}

fn keys(by: &[std::sync::Arc<str>]) -> String {
    if by.is_empty() {
        "per node".into()
    } else {
        format!(
            "per node and {}",
            by.iter().map(|k| &**k).collect::<Vec<_>>().join(", ")
        )
    }
}

/// One paragraph saying what the detection looks for.
pub fn describe(d: &Detect) -> String {
    match d {
        Detect::Event { sel: s, by } => format!(
            "Fires on every {} ({}); hits close together merge into one finding.",
            sel(s),
            keys(by)
        ),
        Detect::Window {
            agg,
            field,
            sel: s,
            op,
            value,
            within,
            by,
        } => {
            let what = match (agg, field) {
                (Agg::Count, _) => format!("the number of {}", plural(s)),
                (a, Some(f)) => format!("the {} of `{f}` over {}", a.name(), plural(s)),
                (a, None) => a.name().to_string(),
            };
            format!(
                "Fires when {what} within any {} sliding window ({}) is {} {value}. The window ends at each matching line and never stretches past {}.",
                format_duration(*within),
                keys(by),
                op.symbol(),
                format_duration(*within)
            )
        }
        Detect::Metric(m) => {
            let hold = m.for_.map_or("at any sample".to_string(), |f| {
                format!("on consecutive samples for at least {}", format_duration(f))
            });
            format!(
                "Fires when `{}` holds {hold}, evaluated at each sample of `{}` per node. Missing data is unknown: it never fires and breaks a run.",
                m.text, m.primary
            )
        }
        Detect::NotFollowed { a, b, within, by } => format!(
            "Fires on {} that is not followed by {} within {} ({}). Decided only when those {} lie inside the data.",
            sel(a),
            sel(b),
            format_duration(*within),
            keys(by),
            format_duration(*within)
        ),
        Detect::Sequence { by, within, steps } => {
            let mut s = format!(
                "Fires when these steps happen in this order ({}, all steps with equal keys), all within {} of the first:",
                keys(by),
                format_duration(*within)
            );
            for (i, st) in steps.iter().enumerate() {
                s.push_str(&format!("\n  {}. {}", i + 1, describe(&st.detect)));
                if let Some(w) = &st.without {
                    s.push_str(&format!(" With no {} since the previous step.", sel(w)));
                }
            }
            s
        }
        Detect::Silence {
            sel: s,
            scrapes,
            dur,
            peers,
        } => format!(
            "Fires when a node has no {}{} for {}{}; decided only inside the data, never before the node's first line.",
            s.as_ref().map_or("log line".to_string(), sel),
            if *scrapes {
                " and answers no scrape"
            } else {
                ""
            },
            format_duration(*dur),
            if *peers {
                " while other nodes keep going"
            } else {
                ""
            }
        ),
        Detect::Gap { dur, peers } => format!(
            "Fires when a node answers no metric scrape for {}{}.",
            format_duration(*dur),
            if *peers {
                " while other nodes are scraped"
            } else {
                ""
            }
        ),
        Detect::Cascade {
            origin,
            then,
            within,
            min,
        } => format!(
            "Fires when a finding of {} on a node is followed within {} by findings of {} on at least {min} other node(s).",
            origin.iter().map(|r| &**r).collect::<Vec<_>>().join(", "),
            format_duration(*within),
            then.iter().map(|r| &**r).collect::<Vec<_>>().join(", ")
        ),
    }
}
