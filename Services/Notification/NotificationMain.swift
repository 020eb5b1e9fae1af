import AftercareRuntime

/// Turns events into messages for members and staff on the right channel.
@main
struct NotificationMain {
    static func main() async throws {
        let configuration = ServiceConfiguration.fromProcessEnvironment(service: .notification)
        let app = await buildApplication(configuration: configuration)
        try await app.runService(configuration: configuration)
    }
}
