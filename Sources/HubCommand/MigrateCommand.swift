import ArgumentParser
import Hub

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Apply pending database migrations (serve does this on start).")

    func run() async throws {
        let settings = try HubSettings()
        let store = try Store.open(settings.databaseURL, poolSize: 1)
        let applied = try await store.migrate()
        await store.close()
        print(applied.isEmpty ? "the database is up to date" : "applied migrations: " + applied.joined(separator: ", "))
    }
}
