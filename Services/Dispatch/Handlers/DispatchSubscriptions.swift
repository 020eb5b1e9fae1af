import AftercareContracts
import AftercareMessaging

/// The events dispatch consumes: the organisation, members and their purchases from
/// membership (kept as local projections, for booking, scope and the due list), technicians
/// joining and leaving (a leaver's open seats go back to be offered), and the coupon
/// service's answers to bookings that pay with a coupon.
enum DispatchSubscriptions {
    static func make(directory: Directory, dispatcher: CrewDispatcher, bookings: Bookings) -> EventSubscriptions {
        var subscriptions = EventSubscriptions()
        subscriptions.on(StoreOpened.self) { event, connection in try await directory.upsertStore(event.payload, on: connection) }
        subscriptions.on(MemberRegistered.self) { event, connection in
            try await directory.upsertMember(event.payload, at: event.metadata.occurredAt, on: connection)
        }
        subscriptions.on(MemberUpdated.self) { event, connection in try await directory.updateMember(event.payload, on: connection) }
        subscriptions.on(MemberGuideReassigned.self) { event, connection in try await directory.reassignGuide(event.payload, on: connection) }
        subscriptions.on(TierChanged.self) { event, connection in try await directory.changeTier(event.payload, on: connection) }
        subscriptions.on(PurchaseRecorded.self) { event, connection in try await directory.recordPurchase(event.payload, on: connection) }
        subscriptions.on(PurchaseRefunded.self) { event, connection in try await directory.refundPurchase(event.payload, on: connection) }
        subscriptions.on(StaffJoined.self) { event, connection in try await directory.technicianJoined(event.payload, on: connection) }
        subscriptions.on(StaffLeft.self) { event, connection in
            if try await directory.staffLeft(event.payload, on: connection) {
                try await dispatcher.technicianLeft(event.payload.staffId, on: connection)
            }
        }
        subscriptions.on(CouponReserved.self) { event, connection in try await bookings.couponReserved(event.payload, on: connection) }
        subscriptions.on(CouponReservationRefused.self) { event, connection in try await bookings.couponRefused(event.payload, on: connection) }
        return subscriptions
    }
}
