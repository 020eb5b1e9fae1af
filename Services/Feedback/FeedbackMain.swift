import AftercareRuntime

/// Complaints with five-minute callbacks and escalation; reviews after service visits.
@main
struct FeedbackMain {
    static func main() async throws {
        let configuration = ServiceConfiguration.fromProcessEnvironment(service: .feedback)
        let settings = ServiceConfiguration.serviceSettings(service: .feedback, FeedbackSettings.read)
        let app = await buildApplication(configuration: configuration, settings: settings)
        try await app.runService(configuration: configuration)
    }
}
