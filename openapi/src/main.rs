//! Writes `openapi/openapi.json` from the code (`cargo run -p xinli-openapi`), or checks that
//! the committed file is current (`--check`, exit code 1 when stale).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(about = "Generate or check the 心嚟在线 OpenAPI spec")]
struct Args {
    /// Where the spec lives.
    #[arg(long, default_value_os_t = default_path())]
    out: PathBuf,
    /// Do not write; fail if the file differs from what the code generates.
    #[arg(long)]
    check: bool,
}

fn default_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("openapi.json")
}

fn main() -> ExitCode {
    let args = Args::parse();
    let spec = xinli_api::openapi::spec_json();
    if args.check {
        return match std::fs::read_to_string(&args.out) {
            Ok(current) if current == spec => {
                println!("{} is current", args.out.display());
                ExitCode::SUCCESS
            }
            Ok(_) => {
                eprintln!(
                    "{} is stale: run `cargo run -p xinli-openapi`",
                    args.out.display()
                );
                ExitCode::FAILURE
            }
            Err(e) => {
                eprintln!("cannot read {}: {e}", args.out.display());
                ExitCode::FAILURE
            }
        };
    }
    match std::fs::write(&args.out, spec) {
        Ok(()) => {
            println!("wrote {}", args.out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot write {}: {e}", args.out.display());
            ExitCode::FAILURE
        }
    }
}
