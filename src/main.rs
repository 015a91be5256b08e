fn main() {
    eprintln!("mcp-trino: not wired up yet");
    std::process::exit(2);
}
