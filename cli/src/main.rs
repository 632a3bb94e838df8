//! The `asyncop` command: see and steer the jobs of a queue.

fn main() -> std::process::ExitCode {
    eprintln!("asyncop: no commands in this build yet");
    std::process::ExitCode::FAILURE
}
