// The idiomatic Swift layer over the generated bindings (PimsFFI.swift): the mobile SDK's call
// shapes, with [String: Any] parameters and messages and a trailing closure.
//
// NOT COMPILED HERE: no Swift compiler installs on the machines this project is checked on.
// What is checked is the generated code's C side (bindings/README.md). Compile it with the
// generated PimsFFI.swift, pims_ffiFFI.h and pims_ffiFFI.modulemap before relying on it.

import Foundation

/// A message in its dictionary form: `transactionId`, `status`, and `result` or `error`.
public typealias Message = [String: Any]

/// The PIMS facade. The four verbs never throw: a failure arrives as a FAILED message.
/// Callbacks run on a pims thread, not the caller's: hop to the main queue before touching UI.
public final class Pims {
    /// The generated object, for what this layer does not wrap.
    public let core: PimsCore

    public init() {
        core = PimsCore()
    }

    /// `initialize` with the mobile SDK's dictionary: SUCCEEDED, or FAILED with why.
    @discardableResult
    public func initialize(parameters: [String: Any]) -> Message {
        Json.message(core.initialize(parameters: Json.parameters(parameters)))
    }

    /// Whether the facade is initialised (and not released).
    public var isInitialized: Bool { core.isInitialized() }

    /// Releases the facade: every later call answers 2001.
    public func release() { core.release() }

    /// `get`: `callback` gets exactly one message, on a pims thread.
    public func get(api: String, parameters: [String: Any], callback: @escaping (Message) -> Void) {
        core.get(api: api, parameters: Json.parameters(parameters), callback: Callback(callback))
    }

    /// `set`: `callback` gets exactly one message, on a pims thread.
    public func set(api: String, parameters: [String: Any], callback: @escaping (Message) -> Void) {
        core.set(api: api, parameters: Json.parameters(parameters), callback: Callback(callback))
    }

    /// `subscribe`: the acknowledgement, then one RESULT message per event.
    public func subscribe(api: String, parameters: [String: Any], callback: @escaping (Message) -> Void) {
        core.subscribe(api: api, parameters: Json.parameters(parameters), callback: Callback(callback))
    }

    /// `unsubscribe`: `callback` gets exactly one message.
    public func unsubscribe(api: String, callback: @escaping (Message) -> Void) {
        core.unsubscribe(api: api, callback: Callback(callback))
    }

    /// The `async` form of `get`.
    public func get(api: String, parameters: [String: Any]) async -> Message {
        Json.message(await core.getAsync(api: api, parameters: Json.parameters(parameters)))
    }

    /// The `async` form of `set`.
    public func set(api: String, parameters: [String: Any]) async -> Message {
        Json.message(await core.setAsync(api: api, parameters: Json.parameters(parameters)))
    }

    /// The merged step list (typed); throws `PimsError.Failed`.
    public func steps(selector: StepsSelector, status: StepsFilter = .all, reset: Bool = false) async throws -> StepsAnswer {
        try await core.steps(selector: selector, status: status, reset: reset)
    }

    /// The next step to do, `nil` when every step is done.
    public func nextStep(stepsId: String) async throws -> Step? {
        try await core.nextStep(stepsId: stepsId)
    }

    /// This installation's device id.
    public func deviceId() async throws -> String {
        try await core.deviceId()
    }
}

/// The generated callback protocol, calling a Swift closure.
private final class Callback: MessageCallback, @unchecked Sendable {
    private let callback: (Message) -> Void

    init(_ callback: @escaping (Message) -> Void) {
        self.callback = callback
    }

    func onMessage(message: PimsMessage) throws {
        callback(Json.message(message))
    }
}

/// Swift values to and from `JsonValue`.
public enum Json {
    /// A Swift value as JSON: nil/NSNull, Bool, integers, Float/Double, String, [String: Any],
    /// [Any] and JsonValue. Anything else becomes a NaN, which the core refuses (FAILED 2102
    /// naming the parameter): the verbs never throw.
    public static func from(_ value: Any?) -> JsonValue {
        guard let value = value else { return .jsonNull }
        switch value {
        case let v as JsonValue: return v
        case is NSNull: return .jsonNull
        case let v as Bool: return .jsonBool(value: v)
        case let v as Int: return .jsonInt(value: Int64(v))
        case let v as Int64: return .jsonInt(value: v)
        case let v as Int32: return .jsonInt(value: Int64(v))
        case let v as Double: return .jsonFloat(value: v)
        case let v as Float: return .jsonFloat(value: Double(v))
        case let v as String: return .jsonText(value: v)
        case let v as [String: Any]:
            return .jsonObject(members: v.map { JsonMember(key: $0.key, value: from($0.value)) })
        case let v as [Any]: return .jsonArray(items: v.map { from($0) })
        default: return .jsonFloat(value: .nan)
        }
    }

    /// A parameter dictionary.
    public static func parameters(_ parameters: [String: Any]) -> [String: JsonValue] {
        parameters.mapValues { from($0) }
    }

    /// JSON as Swift: NSNull, Bool, Int64, Double, String, [Any] and [String: Any] (a Swift
    /// dictionary has no order: `jsonRender(value:)` keeps it).
    public static func toSwift(_ value: JsonValue) -> Any {
        switch value {
        case .jsonNull: return NSNull()
        case let .jsonBool(value): return value
        case let .jsonInt(value): return value
        case let .jsonFloat(value): return value
        case let .jsonText(value): return value
        case let .jsonArray(items): return items.map { toSwift($0) }
        case let .jsonObject(members):
            var out: [String: Any] = [:]
            for m in members { out[m.key] = toSwift(m.value) }
            return out
        }
    }

    /// The message in its dictionary form.
    public static func message(_ message: PimsMessage) -> Message {
        (toSwift(message.envelope) as? Message) ?? [:]
    }
}
