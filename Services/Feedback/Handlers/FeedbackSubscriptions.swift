import AftercareContracts
import AftercareMessaging

/// The events the feedback service consumes: who members' guides are and who staffs each
/// rung of the ladder, kept as local projections (no calls to membership).
enum FeedbackSubscriptions {
    static func make(directory: Directory) -> EventSubscriptions {
        var subscriptions = EventSubscriptions()
        subscriptions.on(MemberRegistered.self) { event, connection in try await directory.upsertMember(event.payload, on: connection) }
        subscriptions.on(MemberGuideReassigned.self) { event, connection in try await directory.reassignGuide(event.payload, on: connection) }
        subscriptions.on(StaffJoined.self) { event, connection in try await directory.upsertStaff(event.payload, on: connection) }
        subscriptions.on(StoreOpened.self) { event, connection in try await directory.upsertStore(event.payload, on: connection) }
        subscriptions.on(StaffLeft.self) { event, connection in try await directory.staffLeft(event.payload, on: connection) }
        return subscriptions
    }
}
