fn main() -> std::process::ExitCode {
    ekyc_kiosk::cli::main()
}
