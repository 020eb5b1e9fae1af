import AftercareContracts
import AftercareMessaging

/// The events notification consumes: membership's, kept as projections of who can be
/// reached and how; and every catalogued event, which the rules turn into messages.
enum NotificationSubscriptions {
    static func make(recipients: Recipients, planner: DeliveryPlanner) -> EventSubscriptions {
        var subscriptions = EventSubscriptions()
        EventCatalog.subscribe(&subscriptions) { facts, connection in try await planner.plan(facts, on: connection) }
        // Registration both fills the projection and may welcome the member, in that order.
        subscriptions.on(MemberRegistered.self) { event, connection in
            try await recipients.upsertMember(event.payload, seq: event.metadata.aggregateSequence, on: connection)
            try await planner.plan(try EventCatalog.facts(event), on: connection)
        }
        subscriptions.on(MemberUpdated.self) { event, connection in
            try await recipients.updateMember(event.payload, seq: event.metadata.aggregateSequence, on: connection)
        }
        subscriptions.on(MemberGuideReassigned.self) { event, connection in
            try await recipients.reassignGuide(event.payload, seq: event.metadata.aggregateSequence, on: connection)
            try await planner.plan(try EventCatalog.facts(event), on: connection)
        }
        subscriptions.on(StaffJoined.self) { event, connection in try await recipients.upsertStaff(event.payload, on: connection) }
        subscriptions.on(StaffLeft.self) { event, connection in try await recipients.staffLeft(event.payload, on: connection) }
        subscriptions.on(StoreOpened.self) { event, connection in try await recipients.upsertStore(event.payload, on: connection) }
        return subscriptions
    }
}
