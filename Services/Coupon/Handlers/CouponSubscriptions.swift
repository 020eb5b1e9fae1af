import AftercareContracts
import AftercareMessaging

/// The events the coupon service consumes: the organisation and members from membership
/// (scope, where a coupon is honoured, campaign segments), the membership events its issuing
/// rules answer (a birthday month, a new tier, a new member), purchases (for store events'
/// statistics), and dispatch's bookings and orders, which reserve, consume and release free
/// service coupons.
enum CouponSubscriptions {
    static func make(_ parts: CouponParts) -> EventSubscriptions {
        let (directory, reservations, rules) = (parts.directory, parts.reservations, parts.rules)
        var subscriptions = EventSubscriptions()
        subscriptions.on(StoreOpened.self) { event, connection in try await directory.upsertStore(event.payload, on: connection) }
        subscriptions.on(MemberRegistered.self) { event, connection in
            try await directory.upsertMember(event.payload, on: connection)
            try await rules.apply(MemberRegistered.eventType, memberId: event.payload.memberId, occasion: "joined", on: connection)
        }
        subscriptions.on(MemberUpdated.self) { event, connection in try await directory.updateMember(event.payload, on: connection) }
        subscriptions.on(MemberGuideReassigned.self) { event, connection in try await directory.reassignGuide(event.payload, on: connection) }
        subscriptions.on(TierChanged.self) { event, connection in
            try await directory.changeTier(event.payload, on: connection)
            let occasion = event.metadata.eventID.lowercasedString
            try await rules.apply(
                TierChanged.eventType,
                memberId: event.payload.memberId,
                tier: event.payload.toTier,
                occasion: occasion,
                on: connection
            )
        }
        subscriptions.on(BirthdayMonthStarted.self) { event, connection in
            let birthday = event.payload
            try await rules.apply(BirthdayMonthStarted.eventType, memberId: birthday.memberId, occasion: "birthday-\(birthday.year)", on: connection)
        }
        subscriptions.on(PurchaseRecorded.self) { event, connection in try await directory.recordPurchase(event.payload, on: connection) }
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
