//! What a container's exit code means: POSIX shell conventions and `128 + signal`.

/// The meaning of `code`, in a few words.
pub fn meaning(code: i32) -> String {
    match code {
        0 => "exited successfully: the main process finished".into(),
        1 => "general application error: the application failed (read its log)".into(),
        2 => "misuse: usually invalid arguments or flags".into(),
        126 => "command cannot execute: not executable, permission denied, or built for another platform".into(),
        127 => "command not found: the command or entrypoint does not exist in the image".into(),
        128 => "the runtime could not start the process (StartError / invalid exit argument)".into(),
        129..=192 => {
            let signal = code - 128;
            match signal_name(signal) {
                Some((name, what)) => format!("killed by signal {signal} ({name}): {what}"),
                None => format!("killed by signal {signal}"),
            }
        }
        255 => "exit status out of range (exit(-1) or a fatal runtime error)".into(),
        code if !(0..=255).contains(&code) => "not a POSIX exit status (set by the runtime or a Windows process)".into(),
        _ => "application-specific error code".into(),
    }
}

/// The signal number of an exit code above 128.
pub fn signal_of(code: i32) -> Option<i32> {
    (129..=192).contains(&code).then_some(code - 128)
}

fn signal_name(signal: i32) -> Option<(&'static str, &'static str)> {
    Some(match signal {
        1 => ("SIGHUP", "hang-up"),
        2 => ("SIGINT", "interrupted"),
        3 => ("SIGQUIT", "quit, often with a core dump"),
        4 => ("SIGILL", "illegal instruction (a binary for another CPU)"),
        6 => (
            "SIGABRT",
            "the process aborted itself (failed assertion, fatal runtime error)",
        ),
        7 => ("SIGBUS", "bus error (bad memory access)"),
        8 => ("SIGFPE", "arithmetic error"),
        9 => (
            "SIGKILL",
            "killed outright: the OOM killer, a liveness-probe restart after the grace period, or an external kill",
        ),
        11 => (
            "SIGSEGV",
            "segmentation fault: the program crashed on an invalid memory access",
        ),
        13 => ("SIGPIPE", "wrote to a closed pipe or socket"),
        15 => (
            "SIGTERM",
            "asked to stop: the kubelet stops containers with SIGTERM (liveness failure, deletion), or something inside sent it",
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table() {
        let cases = [
            (0, "exited successfully"),
            (1, "general application error"),
            (2, "invalid arguments"),
            (126, "cannot execute"),
            (127, "command not found"),
            (128, "could not start"),
            (130, "SIGINT"),
            (134, "SIGABRT"),
            (137, "SIGKILL"),
            (139, "SIGSEGV"),
            (143, "SIGTERM"),
            (255, "out of range"),
            (-1, "not a POSIX"),
            (3, "application-specific"),
        ];
        for (code, words) in cases {
            assert!(meaning(code).contains(words), "{code}: {}", meaning(code));
        }
        assert_eq!(signal_of(137), Some(9));
        assert_eq!(signal_of(1), None);
    }
}
