fn main() -> std::process::ExitCode {
    idgap::cli::main()
}
