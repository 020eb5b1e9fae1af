import AftercareContracts
import AftercareRuntime
import Foundation
import Testing

@testable import NotificationService

/// The pure parts, without database or broker: templates, quiet hours, the event catalog,
/// provider answers, preferences and configuration.
@Suite("Notification rules", .timeLimit(.minutes(1)))
struct NotificationRulesTests {
    @Test("templates name their variables and render them; broken placeholders are refused")
    func templates() throws {
        #expect(try TemplateText.variables(in: "{{ name }}, {{points}} by {{expiresAt}}").get() == ["name", "points", "expiresAt"])
        #expect(TemplateText.render("Hi {{ name }}, {{missing}}{{points}}!", with: ["name": "Li", "points": "3"]) == "Hi Li, 3!")
        #expect((try? TemplateText.variables(in: "{{name").get()) == nil)
        #expect((try? TemplateText.variables(in: "{{na me}}").get()) == nil)
        let request = TemplateRequest(
            eventType: PointsExpiring.eventType,
            bodies: ["zh-CN": "{{points}} {{recipientName}}", "fr": "x", "en": "{{coupon}}"]
        )
        #expect(
            request.validate() == [
                FieldProblem(field: "bodies.en", message: "uses {{coupon}}, which membership.points.expiring does not carry"),
                FieldProblem(field: "bodies.fr", message: "locale must be one of zh-CN, en"),
            ]
        )
        #expect(TemplateRequest(eventType: "coupon.nothing.happened", bodies: ["en": "x"]).validate().map(\.field) == ["eventType"])
    }

    @Test("every out-of-the-box template uses only its event's variables, and every rule names one of them")
    func outOfTheBox() {
        for template in OutOfTheBox.allTemplates {
            let request = TemplateRequest(eventType: template.event, bodies: ["zh-CN": template.zh, "en": template.en])
            #expect(request.validate() == [], "\(template.key)")
        }
        for rule in OutOfTheBox.allRules {
            #expect(
                (OutOfTheBox.allTemplates).contains { $0.key == rule.template && $0.event == rule.event },
                "\(rule.id)"
            )
        }
    }

    @Test("the catalog's variables are exactly the fields each payload encodes")
    func catalogMatchesContracts() throws {
        let now = Date()
        let samples: [any EventPayload] = [
            MemberRegistered(
                memberId: "m",
                guideId: "g",
                storeId: "s",
                dealerId: "d",
                serviceMessagesConsent: true,
                marketingConsent: true,
                phone: "+8613800000000",
                name: "n",
                referredBy: "r",
                timeZone: "Asia/Shanghai"
            ),
            MemberGuideReassigned(memberId: "m", fromGuideId: "a", toGuideId: "b", storeId: "s"),
            PurchaseRecorded(
                orderId: "o",
                memberId: "m",
                storeId: "s",
                dealerId: "d",
                guideId: "g",
                amountCents: 1,
                items: [],
                purchasedAt: now,
                pointsEarned: 1
            ),
            PointsChanged(memberId: "m", kind: .earn, delta: 1, balance: 1, reference: "r"),
            PointsExpiring(memberId: "m", points: 1, expiresAt: now, daysBefore: 30),
            PointsExpired(memberId: "m", points: 1, balance: 0, clearedAt: now),
            TierChanged(memberId: "m", fromTier: "a", toTier: "b", reason: "r", qualifyingSpendCents: 1),
            BirthdayMonthStarted(memberId: "m", year: 2030, month: 1, day: 2),
            BirthdayToday(memberId: "m", year: 2030, month: 1, day: 2),
            ComplaintOpened(
                complaintId: UUID(),
                memberId: "m",
                storeId: "s",
                dealerId: "d",
                channel: "c",
                category: "c",
                severity: "s",
                openedAt: now
            ),
            ComplaintResolved(
                complaintId: UUID(),
                memberId: "m",
                storeId: "s",
                dealerId: "d",
                resolution: "r",
                resolvedBy: "b",
                resolvedAt: now,
                closesAt: now
            ),
            CallbackCreated(
                taskId: UUID(),
                complaintId: UUID(),
                memberId: "m",
                storeId: "s",
                dealerId: "d",
                level: .guide,
                assigneeId: "g",
                dueAt: now,
                category: "c",
                severity: "s"
            ),
            CallbackEscalated(
                taskId: UUID(),
                complaintId: UUID(),
                memberId: "m",
                storeId: "s",
                dealerId: "d",
                fromLevel: .guide,
                toLevel: .storeManager,
                assigneeId: "a",
                dueAt: now
            ),
            CallbackRetryDue(
                taskId: UUID(),
                complaintId: UUID(),
                memberId: "m",
                storeId: "s",
                dealerId: "d",
                level: .guide,
                assigneeId: "g",
                attempts: 1
            ),
            ReviewRequested(requestId: UUID(), orderId: "o", memberId: "m", storeId: "s", dealerId: "d", technicianIds: ["t"], expiresAt: now),
            ServiceOrderCompleted(orderId: "o", memberId: "m", storeId: "s", dealerId: "d", serviceType: "x", technicianIds: ["t"], completedAt: now),
            OfferMade(
                orderId: UUID(),
                seat: 1,
                technicianId: "t",
                memberId: "m",
                storeId: "s",
                dealerId: "d",
                serviceType: "x",
                startsAt: now,
                expiresAt: now,
                actorId: "a",
                reason: "r"
            ),
            orderChange(ServiceOrderDispatched.self, now),
            orderChange(ServiceOrderEnRoute.self, now),
            orderChange(CrewIncomplete.self, now),
            BookingRefused(
                bookingId: UUID(),
                orderId: UUID(),
                memberId: "m",
                storeId: "s",
                dealerId: "d",
                serviceType: "x",
                startsAt: now,
                couponCode: "c",
                actorId: "coupon",
                reason: "r"
            ),
            couponChange(CouponIssued.self, now),
            couponChange(CouponExpiring.self, now),
            StoreEventMemberInvited(eventId: UUID(), name: "n", memberId: "m", storeId: "s", startsAt: now, endsAt: now, invitedBy: "g"),
        ]
        #expect(Set(samples.map { type(of: $0).eventType }) == Set(EventCatalog.payloadFields.keys))
        for sample in samples {
            let encoded = try JSONSerialization.jsonObject(with: try EventCoding.encoder().encode(sample)) as? [String: Any] ?? [:]
            #expect(Set(encoded.keys) == Set(EventCatalog.payloadFields[type(of: sample).eventType] ?? []), "\(type(of: sample).eventType)")
        }
        let fields = try EventCatalog.fields(
            of: samples[14] as? ReviewRequested
                ?? ReviewRequested(requestId: UUID(), orderId: "", memberId: "", storeId: "", dealerId: "", technicianIds: [], expiresAt: now)
        )
        #expect(fields["technicianIds"] == "t")
        #expect(
            try EventCatalog.fields(
                of: MemberRegistered(memberId: "m", guideId: nil, storeId: "s", dealerId: "d", serviceMessagesConsent: true, marketingConsent: false)
            )["marketingConsent"] == "false"
        )
    }

    @Test("quiet hours release a message at their end, across midnight, on the recipient's clock")
    func quietHours() throws {
        let shanghai = try #require(TimeZone(identifier: "Asia/Shanghai"))
        let quiet = QuietHours.standard
        let evening = Date(timeIntervalSince1970: 1_898_906_400 + 12.5 * 3600)  // 2030-03-05 22:30 +08
        #expect(MessageText.localText(quiet.release(of: evening, in: shanghai), in: shanghai) == "2030-03-06 09:00")
        let early = Date(timeIntervalSince1970: 1_898_906_400 - 4 * 3600)  // 06:00 +08
        #expect(MessageText.localText(quiet.release(of: early, in: shanghai), in: shanghai) == "2030-03-05 09:00")
        let noon = Date(timeIntervalSince1970: 1_898_906_400 + 2 * 3600)
        #expect(quiet.release(of: noon, in: shanghai) == noon)
        #expect(QuietHours(start: 600, end: 600).release(of: evening, in: shanghai) == evening)
        let daytime = try #require(QuietHours("12:00-14:00"))
        #expect(MessageText.localText(daytime.release(of: noon, in: shanghai), in: shanghai) == "2030-03-05 14:00")
        #expect(QuietHours("21:00-9:00") == nil && QuietHours("25:00-09:00") == nil)
    }

    @Test("the month-end message is due at 10:00 on the last day of the event's month")
    func monthEnd() throws {
        let shanghai = try #require(TimeZone(identifier: "Asia/Shanghai"))
        let metadata = EventMetadata(
            eventID: UUID(),
            type: BirthdayMonthStarted.eventType,
            schemaVersion: 1,
            occurredAt: Date(),
            producer: "membership",
            correlationID: UUID(),
            causationID: nil,
            aggregateID: "m",
            aggregateSequence: 1
        )
        let february = EventCatalog.Facts(metadata: metadata, fields: ["year": "2028", "month": "2"])
        #expect(MessageText.localText(MessageText.monthEnd(of: february, in: shanghai, fallback: Date()), in: shanghai) == "2028-02-29 10:00")
        let december = EventCatalog.Facts(metadata: metadata, fields: ["year": "2030", "month": "12"])
        #expect(MessageText.localText(MessageText.monthEnd(of: december, in: shanghai, fallback: Date()), in: shanghai) == "2030-12-31 10:00")
    }

    @Test("provider answers: 2xx accepted, 408/429/5xx retried, other 4xx refused for good")
    func classify() {
        #expect(ProviderOutcome.classify(statusCode: 202, messageId: "x", body: "") == .accepted(messageId: "x"))
        #expect(
            ProviderOutcome.classify(statusCode: 503, messageId: nil, body: "down") == .retryable(statusCode: 503, detail: "provider error: down")
        )
        #expect(ProviderOutcome.classify(statusCode: 429, messageId: nil, body: "") == .retryable(statusCode: 429, detail: "provider busy: "))
        #expect(ProviderOutcome.classify(statusCode: 400, messageId: nil, body: "bad number") == .rejected(statusCode: 400, detail: "bad number"))
        // Gateways echo the number; what is kept of their answer never holds it.
        #expect(
            ProviderOutcome.classify(statusCode: 400, messageId: nil, body: "invalid to +8613812345678")
                == .rejected(statusCode: 400, detail: "invalid to **********5678")
        )
    }

    @Test("who may receive what: critical always; service and marketing by consent and opt-out")
    func refusals() {
        var member = Recipient(id: "m", kind: .member, phone: nil, name: nil, storeId: nil, dealerId: nil, timeZone: nil)
        member.marketingAllowed = false
        #expect(DeliveryPlanner.refusal(.marketing, member) == "marketing_opted_out")
        #expect(DeliveryPlanner.refusal(.service, member) == nil)
        member.serviceAllowed = false
        #expect(DeliveryPlanner.refusal(.service, member) == "service_opted_out")
        #expect(DeliveryPlanner.refusal(.critical, member) == nil)
        #expect(Recipients.isUnsubscribe(" td\n") && Recipients.isUnsubscribe("退订") && !Recipients.isUnsubscribe("thanks"))
        #expect(Recipients.e164("138 1234 5678") == "+8613812345678" && Recipients.e164("008613812345678") == "+8613812345678")
    }

    @Test("configuration names the variable at fault; retries back off")
    func settings() throws {
        let read = try NotificationSettings.read(
            EnvironmentReader(["NOTIFICATION_SMS_URL": "http://gw.local:8080", "NOTIFICATION_QUIET_HOURS": "22:00-08:00"])
        )
        #expect(read.sms == ProviderEndpoint(baseURL: "http://gw.local:8080", apiKey: nil) && read.officialAccount == nil)
        #expect(read.quietHours == QuietHours(start: 22 * 60, end: 8 * 60))
        for (variable, value) in [
            ("NOTIFICATION_SMS_URL", "gw.local"), ("NOTIFICATION_QUIET_HOURS", "late"), ("NOTIFICATION_DEFAULT_TIME_ZONE", "Mars/Base"),
            ("NOTIFICATION_DEFAULT_LOCALE", "fr"), ("NOTIFICATION_MAX_ATTEMPTS", "0"),
            ("NOTIFICATION_SMS_FAILOVER_URL", "http://gw2.local"), ("NOTIFICATION_PROVIDER_TIMEOUT_MS", "60000"),
        ] {
            #expect(throws: ConfigurationError.self) { try NotificationSettings.read(EnvironmentReader([variable: value])) }
            do { _ = try NotificationSettings.read(EnvironmentReader([variable: value])) } catch let error as ConfigurationError {
                #expect(error.variable == variable)
            } catch {}
        }
        #expect(read.retryDelay(after: 1) == 30 && read.retryDelay(after: 3) == 120)
        let rule = RuleRequest(
            eventType: BirthdayToday.eventType,
            templateKey: "birthday_today",
            recipient: .member,
            channels: [.sms, .sms],
            category: .critical
        )
        #expect(rule.validate().map(\.field) == ["channels", "category"])
    }
}

/// A service order event with every field set.
private func orderChange<Kind>(_ type: OrderChange<Kind>.Type, _ now: Date) -> OrderChange<Kind> {
    OrderChange<Kind>(
        orderId: UUID(),
        bookingId: UUID(),
        memberId: "m",
        storeId: "s",
        dealerId: "d",
        serviceType: "x",
        startsAt: now,
        endsAt: now,
        technicianIds: ["t"],
        couponCode: "c",
        actorId: "a",
        reason: "r"
    )
}

private func couponChange<Kind>(_ type: CouponChange<Kind>.Type, _ now: Date) -> CouponChange<Kind> {
    CouponChange<Kind>(
        code: "C",
        templateId: UUID(),
        kind: "gift",
        title: "t",
        memberId: "m",
        storeId: "s",
        dealerId: "d",
        validUntil: now,
        bookingId: UUID(),
        actorId: "a",
        reason: "r"
    )
}
