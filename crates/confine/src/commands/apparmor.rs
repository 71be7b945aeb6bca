//! `confine apparmor …`: Docker's docker-default rendered for this host, or a file-and-network
//! policy rendered as a profile (`generate --policy`); loaded through the real apparmor_parser
//! (on stdin, nothing on disk), unloaded, compiled offline; the status.

use crate::output::{emit, Json};
use crate::Outcome;
use anyhow::{anyhow, bail, Context};
use confine_apparmor::detect::Detection;
use confine_apparmor::kernel;
use confine_apparmor::parser::{self, ParserError, ParserOptions};
use confine_apparmor::policy::{self as aa_policy, Approximation, RenderError};
use confine_apparmor::template::{self, AbiChoice, Params};
use confine_cli::{
    ApparmorCommand, ApparmorCompileArgs, GenerateArgs, LoadArgs, StatusArgs, TemplateArgs,
};
use serde_json::json;
use std::path::Path;

/// Detection on this machine, with `lsm_list_modules(2)` when securityfs is not mounted.
pub fn detect() -> Detection {
    confine_runtime::apparmor::detect()
}

/// The template parameters for `args` on this host (docker-default unless `--name`).
pub fn params(args: &TemplateArgs) -> anyhow::Result<Params> {
    params_named(args, "docker-default")
}

/// The template parameters for `args` on this host, `default_name` unless `--name`.
fn params_named(args: &TemplateArgs, default_name: &str) -> anyhow::Result<Params> {
    let abi = match args.abi.as_str() {
        "3.0" => AbiChoice::V3,
        "none" => AbiChoice::None,
        _ => AbiChoice::Auto,
    };
    Ok(confine_runtime::apparmor::host_params(
        args.name.as_deref().unwrap_or(default_name),
        args.daemon_profile.as_deref(),
        &args.apparmor_dir,
        abi,
        args.no_includes,
    )?)
}

fn parser_options(args: &TemplateArgs) -> ParserOptions {
    ParserOptions {
        base: (args.apparmor_dir != Path::new("/etc/apparmor.d"))
            .then(|| args.apparmor_dir.clone()),
    }
}

/// Read an AppArmor profile: a regular file of at most 16 MiB, or standard input for `-`.
fn read_input(file: &Path) -> anyhow::Result<String> {
    confine_input::read_text(file.as_os_str(), confine_input::MAX_TEXT_BYTES)
        .map_err(|e| anyhow!("cannot read the AppArmor profile {e}"))
}

fn parser_failure(e: ParserError) -> anyhow::Error {
    anyhow!("{e}")
}

/// Dispatch.
pub fn run(cmd: ApparmorCommand) -> anyhow::Result<Outcome> {
    match cmd {
        ApparmorCommand::Generate(a) => generate(a),
        ApparmorCommand::Load(a) => load(a),
        ApparmorCommand::Unload(a) => {
            let d = detect();
            if let Some(why) = d.why_not_enabled() {
                bail!("cannot unload: {why}");
            }
            if !kernel::is_loaded(&a.name).context("reading the kernel's list of profiles")? {
                bail!("AppArmor profile {} is not loaded", a.name);
            }
            kernel::remove(&a.name).with_context(|| format!("removing profile {}", a.name))?;
            println!("unloaded {}", a.name);
            Ok(Outcome::Clean)
        }
        ApparmorCommand::Status(a) => status(a),
        ApparmorCommand::Compile(a) => compile(a),
    }
}

/// The JSON document of `generate --json`.
fn generate_json(profile: &str, approximations: &[Approximation]) -> anyhow::Result<String> {
    let notes: Vec<_> = approximations
        .iter()
        .map(|a| {
            json!({
                "file": a.file,
                "line": a.span.map(|s| s.line),
                "column": a.span.map(|s| s.column),
                "subject": a.subject,
                "message": a.message,
            })
        })
        .collect();
    Json::Document(json!({"profile": profile, "approximations": notes})).render()
}

/// `confine apparmor generate [--policy FILE]`.
fn generate(a: GenerateArgs) -> anyhow::Result<Outcome> {
    let Some(file) = a.policy.as_deref() else {
        let text = template::render(&params(&a.template)?);
        let out = if a.json {
            generate_json(&text, &[])?
        } else {
            text
        };
        emit(&out, a.output.as_deref())?;
        return Ok(Outcome::Clean);
    };
    let label = if file == Path::new("-") {
        "standard input".to_string()
    } else {
        file.display().to_string()
    };
    let bytes = confine_input::read_arg(file.as_os_str(), confine_input::MAX_TEXT_BYTES)
        .map_err(|e| anyhow!("cannot read the policy {e}"))?;
    let loaded = confine_policy::load(&label, &bytes);
    for d in &loaded.diagnostics {
        eprintln!("{d}");
    }
    let Some(policy) = loaded.policy else {
        return Ok(Outcome::BadInput);
    };
    let name = confine_apparmor::policy::profile_name(policy.name.as_deref(), file);
    let p = params_named(&a.template, &name)?;
    let rendered = match aa_policy::render(&policy, &p) {
        Ok(r) => r,
        Err(RenderError::Name(e)) => return Err(e.into()),
        Err(e) => {
            eprintln!("{e}");
            return Ok(Outcome::BadInput);
        }
    };
    if !a.json {
        for n in &rendered.approximations {
            eprintln!("{n}");
        }
    }
    if a.strict && !rendered.approximations.is_empty() {
        if a.json {
            // the notes are in no document: say them here
            for n in &rendered.approximations {
                eprintln!("{n}");
            }
        }
        eprintln!(
            "confine: {} approximation(s) under --strict: no profile written",
            rendered.approximations.len()
        );
        return Ok(Outcome::Findings);
    }
    let out = if a.json {
        generate_json(&rendered.text, &rendered.approximations)?
    } else {
        rendered.text
    };
    emit(&out, a.output.as_deref())?;
    Ok(Outcome::Clean)
}

fn load(a: LoadArgs) -> anyhow::Result<Outcome> {
    let d = detect();
    // before anything is read: without AppArmor there is nothing to load into
    if let Some(why) = d.why_cannot_load() {
        bail!("cannot load an AppArmor profile: {why}");
    }
    let (text, label) = if a.default {
        (
            template::render(&params(&a.template)?),
            format!(
                "{} rendered for this host",
                a.template.name.as_deref().unwrap_or("docker-default")
            ),
        )
    } else {
        let file = a
            .file
            .as_deref()
            .expect("clap requires FILE without --default");
        let label = if file == Path::new("-") {
            "standard input".to_string()
        } else {
            file.display().to_string()
        };
        (read_input(file)?, label)
    };
    let opts = parser_options(&a.template);
    let names = confine_runtime::apparmor::load_text(&text, a.complain, &opts, &d)
        .with_context(|| label.clone())?;
    let mode = if a.complain { "complain" } else { "enforce" };
    for n in names {
        println!("loaded {n} ({mode})");
    }
    Ok(Outcome::Clean)
}

fn status(a: StatusArgs) -> anyhow::Result<Outcome> {
    let d = detect();
    let enabled = d.enabled();
    let profiles = if enabled {
        Some(kernel::loaded_profiles())
    } else {
        None
    };
    let procs = if enabled {
        kernel::processes_by_label(Path::new("/proc"))
    } else {
        Vec::new()
    };
    if a.json {
        let (list, error) = match &profiles {
            Some(Ok(p)) => (
                Some(
                    p.iter()
                        .map(|x| json!({"name": x.name, "mode": x.mode}))
                        .collect::<Vec<_>>(),
                ),
                None,
            ),
            Some(Err(e)) => (None, Some(e.to_string())),
            None => (None, None),
        };
        let doc = json!({
            "enabled": enabled,
            "reason": d.why_not_enabled(),
            "lsms": d.lsms,
            "parser": d.parser.as_ref().map(|p| p.display().to_string()),
            "profiles": list,
            "profiles_error": error,
            "processes": procs.iter().map(|(l, pids)| json!({
                "label": l.name, "mode": l.mode, "pids": pids
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(Outcome::Clean);
    }
    let lsms = d
        .lsms
        .as_ref()
        .map(|l| l.join(","))
        .unwrap_or("unknown".into());
    match d.why_not_enabled() {
        None => println!("AppArmor: enabled"),
        Some(why) => println!("AppArmor: disabled: {why}"),
    }
    println!("active LSMs: {lsms}");
    println!(
        "apparmor_parser: {}",
        d.parser
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "not found".into())
    );
    match profiles {
        None => {}
        Some(Err(e)) => println!("loaded profiles: cannot read ({e})"),
        Some(Ok(p)) => {
            println!("loaded profiles ({}):", p.len());
            let w = p.iter().map(|x| x.name.len()).max().unwrap_or(0);
            for x in &p {
                println!("  {:<w$}  {}", x.name, x.mode);
            }
        }
    }
    if enabled {
        println!("processes by label:");
        for (l, pids) in &procs {
            let shown: Vec<String> = pids.iter().take(20).map(u32::to_string).collect();
            let more = if pids.len() > 20 { " …" } else { "" };
            println!("  {l}: {} ({}{more})", pids.len(), shown.join(" "));
        }
    }
    Ok(Outcome::Clean)
}

fn compile(a: ApparmorCompileArgs) -> anyhow::Result<Outcome> {
    // apparmor_parser reads the features file itself: it must not be a FIFO or a device either
    confine_input::check_regular(&a.features)
        .map_err(|e| anyhow!("cannot read the features file {e}"))?;
    let text = read_input(&a.file)?;
    let parser_path = confine_apparmor::detect::find_parser().ok_or_else(|| {
        anyhow!("apparmor_parser was not found on PATH, in /sbin or in /usr/sbin (Debian: apt-get install apparmor)")
    })?;
    let opts = ParserOptions {
        base: a.apparmor_dir.clone(),
    };
    let bin = parser::compile(&parser_path, &text, &a.features, &opts).map_err(parser_failure)?;
    match &a.output {
        Some(p) => {
            std::fs::write(p, &bin).with_context(|| format!("cannot write {}", p.display()))?;
            eprintln!(
                "{} bytes of binary policy written to {}",
                bin.len(),
                p.display()
            );
        }
        None => println!("{} bytes of binary policy", bin.len()),
    }
    Ok(Outcome::Clean)
}
