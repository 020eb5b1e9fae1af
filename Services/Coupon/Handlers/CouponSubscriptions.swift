import AftercareContracts
import AftercareMessaging

/// The events the coupon service consumes: the organisation and members from membership
/// (scope, where a coupon is honoured, campaign segments), and dispatch's bookings and
/// orders, which reserve, consume and release free service coupons.
enum CouponSubscriptions {
    static func make(directory: Directory, reservations: Reservations) -> EventSubscriptions {
        var subscriptions = EventSubscriptions()
        subscriptions.on(StoreOpened.self) { event, connection in try await directory.upsertStore(event.payload, on: connection) }
        subscriptions.on(MemberRegistered.self) { event, connection in try await directory.upsertMember(event.payload, on: connection) }
        subscriptions.on(MemberUpdated.self) { event, connection in try await directory.updateMember(event.payload, on: connection) }
        subscriptions.on(MemberGuideReassigned.self) { event, connection in try await directory.reassignGuide(event.payload, on: connection) }
        subscriptions.on(TierChanged.self) { event, connection in try await directory.changeTier(event.payload, on: connection) }
        subscriptions.on(BookingRequested.self) { event, connection in try await reservations.bookingRequested(event.payload, on: connection) }
        subscriptions.on(ServiceOrderCompleted.self) { event, connection in try await reservations.orderCompleted(event.payload, on: connection) }
        subscriptions.on(BookingCancelled.self) { event, connection in
            try await reservations.release(
                bookingId: event.payload.bookingId,
                storeId: event.payload.storeId,
                why: "booking cancelled",
                on: connection
            )
        }
        subscriptions.on(BookingRefused.self) { event, connection in
            try await reservations.release(bookingId: event.payload.bookingId, storeId: event.payload.storeId, why: "booking refused", on: connection)
        }
        subscriptions.on(ServiceOrderNoAccess.self) { event, connection in
            try await reservations.release(bookingId: event.payload.bookingId, storeId: event.payload.storeId, why: "nobody was home", on: connection)
        }
        subscriptions.on(ServiceOrderCannotComplete.self) { event, connection in
            try await reservations.release(
                bookingId: event.payload.bookingId,
                storeId: event.payload.storeId,
                why: "the visit could not be completed",
                on: connection
            )
        }
        return subscriptions
    }
}
