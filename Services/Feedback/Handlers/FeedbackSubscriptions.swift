import AftercareContracts
import AftercareMessaging

/// The events the feedback service consumes: who members' guides are, who staffs each rung
/// of the ladder and when stores are open, kept as local projections (no calls to
/// membership); and completed service visits, which ask the member for a review.
enum FeedbackSubscriptions {
    static func make(directory: Directory, invitations: ReviewInvitations) -> EventSubscriptions {
        var subscriptions = EventSubscriptions()
        subscriptions.on(MemberRegistered.self) { event, connection in try await directory.upsertMember(event.payload, on: connection) }
        subscriptions.on(MemberGuideReassigned.self) { event, connection in try await directory.reassignGuide(event.payload, on: connection) }
        subscriptions.on(StaffJoined.self) { event, connection in try await directory.upsertStaff(event.payload, on: connection) }
        subscriptions.on(StoreOpened.self) { event, connection in try await directory.upsertStore(event.payload, on: connection) }
        subscriptions.on(StaffLeft.self) { event, connection in try await directory.staffLeft(event.payload, on: connection) }
        subscriptions.on(ServiceOrderCompleted.self) { event, connection in
            try await invitations.requestReview(event.payload, cause: event.metadata, on: connection)
        }
        return subscriptions
    }
}
