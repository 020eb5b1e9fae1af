import AftercareRuntime

/// Turns events into messages for members and staff on the right channel.
@main
struct NotificationMain {
    static func main() async throws {
        let configuration = ServiceConfiguration.fromProcessEnvironment(service: .notification)
        let settings = ServiceConfiguration.serviceSettings(service: .notification, NotificationSettings.read)
        let app = await buildApplication(configuration: configuration, settings: settings)
        try await app.runService(configuration: configuration)
    }
}
