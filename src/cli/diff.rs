//! `syncopate diff`: a design review of two designs, each a file or a git revision's file.
//!
//! Exit codes as `diff`'s: 0 the same, 1 different, 2 trouble (usage, unreadable or invalid input, git errors).

use std::io::Write;

use super::{DiffFormat, EXIT_INVALID, EXIT_OK, EXIT_USAGE, to_json};
use crate::model::{self, Design, diff::DiffOptions};
use crate::review;

/// What `syncopate diff` was asked.
pub(super) struct DiffArgs<'a> {
    pub old: &'a str,
    pub new: &'a str,
    pub format: DiffFormat,
    pub simulate: bool,
    pub duration_s: Option<f64>,
    pub seed: Option<u64>,
    pub options: DiffOptions,
}

/// Reads one side: a file, or `REV:PATH` from git in the current folder.
fn read_side(spec: &str) -> Result<Design, String> {
    if crate::git::is_revision_spec(spec) {
        let dir = std::env::current_dir().map_err(|e| format!("{spec}: {e}"))?;
        crate::git::load_revision(spec, &dir)
    } else {
        model::load_file(std::path::Path::new(spec)).map_err(|e| e.to_string())
    }
}

pub(super) fn diff(args: &DiffArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let (old, new) = match (read_side(args.old), read_side(args.new)) {
        (Ok(old), Ok(new)) => (old, new),
        (old, new) => {
            for e in [old.err(), new.err()].into_iter().flatten() {
                let _ = writeln!(err, "error: {e}");
            }
            return EXIT_USAGE;
        }
    };
    if let Some(duration) = args.duration_s
        && !(duration.is_finite() && duration > 0.0 && duration <= model::validate::MAX_SIMULATED_S)
    {
        let _ = writeln!(
            err,
            "error: --duration-s must be a number of seconds greater than 0 and at most {}, not {duration}",
            model::validate::MAX_SIMULATED_S
        );
        return EXIT_USAGE;
    }
    let mut review = review::review((args.old, &old), (args.new, &new), args.options);
    if args.simulate {
        let settings = review::simulation_settings(&old, &new, args.duration_s, args.seed);
        if let Err(e) = review::simulate(&mut review, &old, &new, settings) {
            let spec = if e.side == "old" { args.old } else { args.new };
            let _ = writeln!(err, "error: cannot simulate {spec}: {}", e.message);
            return EXIT_USAGE;
        }
    }
    let text = match args.format {
        DiffFormat::Json => to_json(&review) + "\n",
        DiffFormat::Text => review::render::text(&review),
        DiffFormat::Markdown => review::render::markdown(&review),
    };
    let _ = out.write_all(text.as_bytes());
    if review.same { EXIT_OK } else { EXIT_INVALID }
}
