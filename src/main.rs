fn main() -> std::process::ExitCode {
    genderlens::cli::main()
}
