import Foundation
import Testing

@testable import DispatchService

/// Dispatch's pure rules: who may take a seat and in what order they are asked, how much
/// room a slot has, and how a crew works the checklist.
@Suite("Dispatch rules: crew choice, slot room, the checklist", .timeLimit(.minutes(1)))
struct DispatchRulesTests {
    static let weekdays = WeeklyHours(days: Dictionary(uniqueKeysWithValues: (1...5).map { ($0, WeeklyHours.Span(from: 9 * 60, to: 19 * 60)) }))
    /// Thursday 3 December 2026, 09:00–12:00, at store s-1, mite removal.
    static let morning = VisitWindow(day: "2026-12-03", weekday: 4, fromMinute: 9 * 60, toMinute: 12 * 60, store: "s-1", serviceType: "mite_removal")

    static func technician(
        _ id: String,
        home: String? = "s-1",
        skills: Set<String> = ["mite_removal"],
        territory: Set<String> = ["s-1", "s-2"],
        hours: WeeklyHours = weekdays,
        daysOff: Set<String> = [],
        perDay: Int = 3,
        active: Bool = true
    ) -> TechnicianProfile {
        TechnicianProfile(
            id: id,
            dealerId: "d-1",
            homeStore: home,
            skills: skills,
            territory: territory,
            hours: hours,
            daysOff: daysOff,
            visitsPerDay: perDay,
            active: active
        )
    }

    @Test("each hard rule keeps a technician off a seat, and names why")
    func hardRules() {
        let window = Self.morning
        let cases: [(TechnicianProfile, Workload, CrewChoice.Refusal?)] = [
            (Self.technician("ok"), Workload(), nil),
            (Self.technician("left", active: false), Workload(), .inactive),
            (Self.technician("repairs", skills: ["repair"]), Workload(), .lacksSkill),
            (Self.technician("north", territory: ["s-9"]), Workload(), .outsideTerritory),
            (Self.technician("off", daysOff: ["2026-12-03"]), Workload(), .dayOff),
            (Self.technician("late", hours: WeeklyHours(days: [4: .init(from: 10 * 60, to: 19 * 60)])), Workload(), .outsideHours),
            (Self.technician("weekend", hours: WeeklyHours(days: [6: .init(from: 0, to: 24 * 60)])), Workload(), .outsideHours),
            (Self.technician("busy", perDay: 2), Workload(onDay: ["busy": 2]), .dayFull),
            (Self.technician("one-left", perDay: 2), Workload(onDay: ["one-left": 1]), nil),
        ]
        for (technician, workload, expected) in cases {
            #expect(CrewChoice.refusal(technician, for: window, workload: workload) == expected, "\(technician.id)")
        }
    }

    @Test("among those who pass: fewest visits this week first, then the member's store, then by id; those already asked are left out")
    func ranking() {
        let technicians = [
            Self.technician("t-a", home: "s-2"), Self.technician("t-b", home: "s-1"), Self.technician("t-c", home: "s-2"),
            Self.technician("t-d", home: nil), Self.technician("t-e", skills: ["repair"]),
        ]
        let workload = Workload(inWeek: ["t-a": 1, "t-b": 1, "t-c": 0, "t-d": 4])
        let ranked = CrewChoice.candidates(for: Self.morning, among: technicians, workload: workload)
        #expect(ranked.map(\.technicianId) == ["t-c", "t-b", "t-a", "t-d"])
        #expect(ranked[1].reason == "1 visit this week, home store is the member's")
        #expect(ranked[0].reason == "0 visits this week")
        let next = CrewChoice.candidates(for: Self.morning, among: technicians, workload: workload, excluding: ["t-c", "t-b"])
        #expect(next.map(\.technicianId) == ["t-a", "t-d"])
    }

    @Test("a slot has room for as many crews as the free qualified technicians make, less the bookings holding it")
    func slotRoom() {
        let five = (1...5).map { Self.technician("t-\($0)") } + [Self.technician("repairs", skills: ["repair"])]
        #expect(CrewChoice.room(for: Self.morning, crewSize: 2, among: five, workload: Workload(), booked: 0) == 2)
        #expect(CrewChoice.room(for: Self.morning, crewSize: 1, among: five, workload: Workload(), booked: 2) == 3)
        #expect(CrewChoice.room(for: Self.morning, crewSize: 2, among: five, workload: Workload(), booked: 2) == 0)
        #expect(CrewChoice.room(for: Self.morning, crewSize: 2, among: five, workload: Workload(), booked: 5) == 0)
        let full = Workload(onDay: ["t-1": 3, "t-2": 3])
        #expect(CrewChoice.room(for: Self.morning, crewSize: 2, among: five, workload: full, booked: 0) == 1)
        #expect(CrewChoice.room(for: Self.morning, crewSize: 0, among: five, workload: Workload(), booked: 0) == 0)
    }

    @Test("the checklist is worked in order, once per step, with the notes and photos it asks for; completion needs every required step")
    func checklist() {
        let steps = ServiceType.miteRemoval.steps
        #expect(steps.count == 16 && ServiceType.miteRemoval.crewSize == 2 && ServiceType.miteRemoval.intervalDays == 365)
        #expect(Checklist.problem(marking: 0, done: [], steps: steps, note: nil, photo: nil) == nil)
        #expect(Checklist.problem(marking: 2, done: [0], steps: steps, note: nil, photo: nil) == .outOfOrder(next: 1))
        #expect(Checklist.problem(marking: 1, done: [0], steps: steps, note: nil, photo: nil) == .photoRequired)
        #expect(Checklist.problem(marking: 1, done: [0], steps: steps, note: nil, photo: "photo-1.jpg") == nil)
        #expect(Checklist.problem(marking: 2, done: [0, 1], steps: steps, note: "", photo: nil) == .noteRequired)
        #expect(Checklist.problem(marking: 0, done: [0, 1], steps: steps, note: nil, photo: nil) == .alreadyDone)
        #expect(Checklist.problem(marking: 16, done: [], steps: steps, note: nil, photo: nil) == .noSuchStep)
        #expect(Checklist.problem(marking: -1, done: [], steps: steps, note: nil, photo: nil) == .noSuchStep)
        let allRequired = Set(steps.indices.filter { steps[$0].required })
        #expect(Checklist.missing(done: allRequired, steps: steps).isEmpty)
        #expect(Checklist.missing(done: allRequired.subtracting([14]), steps: steps) == [14])
        // The last step is optional: nothing after it, and the visit completes without it.
        #expect(!steps[15].required)
        #expect(Checklist.problem(marking: 15, done: allRequired, steps: steps, note: "no questions", photo: nil) == nil)
        // A step before one already done cannot be marked any more.
        let optional = [ServiceType.Step("a"), ServiceType.Step("b", required: false), ServiceType.Step("c")]
        #expect(Checklist.problem(marking: 1, done: [0, 2], steps: optional, note: nil, photo: nil) == .outOfOrder(next: 3))
        #expect(Checklist.problem(marking: 2, done: [0], steps: optional, note: nil, photo: nil) == nil)
    }

    @Test("the catalog starts with mite removal, installation, repair and inspection, each with a checklist")
    func catalog() {
        #expect(ServiceType.defaults.map(\.key) == ["mite_removal", "installation", "repair", "inspection"])
        for type in ServiceType.defaults {
            #expect(!type.steps.isEmpty && (1...2).contains(type.crewSize) && type.durationMinutes > 0, "\(type.key)")
        }
    }
}
