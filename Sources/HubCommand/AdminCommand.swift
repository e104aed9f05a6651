import ArgumentParser
import Foundation
import Hub

/// `hub admin add LOGIN`: creates a dashboard admin (or sets a new password), reading the
/// password from standard input so it never appears in the shell's history or `ps`.
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Manage dashboard admins.", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Create an admin, or set a new password for one; the password is read from stdin.")

        @Argument(help: "The admin's login.") var login: String

        func run() async throws {
            // At a terminal the password is typed without echo; otherwise it is the first line piped in.
            let entered = isatty(STDIN_FILENO) != 0 ? getpass("Password: ").map { String(cString: $0) } : readLine(strippingNewline: true)
            guard let line = entered, !line.isEmpty else {
                throw ValidationError("no password on standard input, e.g.: printf '%s' \"$PASSWORD\" | hub admin add \(login)")
            }
            try AdminAccounts.validate(login: login, password: line)
            let settings = try HubSettings()
            let store = try Store.open(settings.databaseURL, poolSize: 1)
            do {
                try await store.migrate()
                try await AdminAccounts(database: store.database).setPassword(login: login, password: line)
            } catch {
                await store.close()
                throw error
            }
            await store.close()
            print("admin '\(login)' can sign in at \(settings.publicURL)/admin")
        }
    }
}
