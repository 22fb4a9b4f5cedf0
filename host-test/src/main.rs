//! `host-test`: run the Klarna connector component in wasmtime (see `--help`).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match host_test::cli::run(&args) {
        Ok(text) => print!("{text}"),
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(1);
        }
    }
}
