fn main() {
    eprintln!("trino-emulator: not wired up yet");
    std::process::exit(2);
}
