// The idiomatic Kotlin layer over the generated bindings (package pims.ffi): the mobile SDK's
// call shapes, with Map<String, Any?> parameters and messages and a lambda callback.
package pims

import pims.ffi.CacheHealth
import pims.ffi.CacheScope
import pims.ffi.CacheWipe
import pims.ffi.CachedListInfo
import pims.ffi.JsonMember
import pims.ffi.JsonValue
import pims.ffi.MessageCallback
import pims.ffi.PimsCore
import pims.ffi.PimsMessage
import pims.ffi.Service
import pims.ffi.Step
import pims.ffi.StepsAnswer
import pims.ffi.StepsFilter
import pims.ffi.StepsSelector

/** A message in its dictionary form: `transactionId`, `status`, and `result` or `error`. */
typealias Message = Map<String, Any?>

/**
 * The PIMS facade. The four verbs never throw: a failure arrives as a FAILED message. Callbacks
 * run on a pims thread, not the caller's: hop to the main thread before touching the UI.
 * The typed calls are `suspend` and throw [pims.ffi.PimsException].
 */
class Pims : AutoCloseable {
    /** The generated object, for what this layer does not wrap. */
    val core: PimsCore = PimsCore()

    /** `initialize` with the mobile SDK's dictionary: SUCCEEDED, or FAILED with why. */
    fun initialize(parameters: Map<String, Any?>): Message =
        core.initialize(Json.parameters(parameters)).toMessage()

    /** Whether the facade is initialised (and not released). */
    val isInitialized: Boolean get() = core.isInitialized()

    /** Releases the facade: every later call answers 2001. */
    fun release() = core.release()

    /** `get`: [callback] gets exactly one message, on a pims thread. */
    fun get(api: String, parameters: Map<String, Any?>, callback: (Message) -> Unit) =
        core.get(api, Json.parameters(parameters), Once(callback))

    /** `set`: [callback] gets exactly one message, on a pims thread. */
    fun set(api: String, parameters: Map<String, Any?>, callback: (Message) -> Unit) =
        core.set(api, Json.parameters(parameters), Once(callback))

    /** `subscribe`: [callback] gets the acknowledgement, then one RESULT message per event. */
    fun subscribe(api: String, parameters: Map<String, Any?>, callback: (Message) -> Unit) =
        core.subscribe(api, Json.parameters(parameters), Once(callback))

    /** `unsubscribe`: [callback] gets exactly one message. */
    fun unsubscribe(api: String, callback: (Message) -> Unit) = core.unsubscribe(api, Once(callback))

    /** The `suspend` form of [get]. */
    suspend fun getAsync(api: String, parameters: Map<String, Any?>): Message =
        core.getAsync(api, Json.parameters(parameters)).toMessage()

    /** The `suspend` form of [set]. */
    suspend fun setAsync(api: String, parameters: Map<String, Any?>): Message =
        core.setAsync(api, Json.parameters(parameters)).toMessage()

    /** The merged step list (typed). */
    suspend fun steps(
        selector: StepsSelector,
        status: StepsFilter = StepsFilter.ALL,
        reset: Boolean = false,
    ): StepsAnswer = core.steps(selector, status, reset)

    /** The next step to do, `null` when every step is done. */
    suspend fun nextStep(stepsId: String): Step? = core.nextStep(stepsId)

    /** The connected services of a vehicle. */
    suspend fun services(vin: String): List<Service> = core.services(vin)

    /** This installation's device id. */
    suspend fun deviceId(): String = core.deviceId()

    /** Whether the step cache works. */
    fun cacheHealth(): CacheHealth = core.cacheHealth()

    /** The lists in the step cache. */
    suspend fun cachedLists(scope: CacheScope = CacheScope.ACCOUNT): List<CachedListInfo> =
        core.cachedLists(scope)

    /** Wipes the step cache (the device id stays). */
    suspend fun wipeCache(scope: CacheScope = CacheScope.ACCOUNT): CacheWipe = core.wipeCache(scope)

    override fun close() = core.close()
}

/** The generated callback, calling a Kotlin lambda. */
private class Once(private val callback: (Message) -> Unit) : MessageCallback {
    override fun onMessage(message: PimsMessage) = callback(message.toMessage())
}

/** The message in its dictionary form. */
fun PimsMessage.toMessage(): Message {
    @Suppress("UNCHECKED_CAST")
    return Json.toKotlin(envelope) as Message
}

/** Kotlin values to and from [JsonValue]. */
object Json {
    /**
     * A Kotlin value as JSON: null, Boolean, integers, Float/Double, CharSequence, Map,
     * Iterable/Array and JsonValue. Anything else becomes a NaN, which the core refuses
     * (FAILED 2102 naming the parameter): the verbs never throw.
     */
    fun fromKotlin(value: Any?): JsonValue = when (value) {
        null -> JsonValue.JsonNull
        is JsonValue -> value
        is Boolean -> JsonValue.JsonBool(value)
        is Byte, is Short, is Int, is Long -> JsonValue.JsonInt((value as Number).toLong())
        is Float, is Double -> JsonValue.JsonFloat((value as Number).toDouble())
        is CharSequence -> JsonValue.JsonText(value.toString())
        is Map<*, *> -> JsonValue.JsonObject(value.map { (k, v) -> JsonMember(k.toString(), fromKotlin(v)) })
        is Iterable<*> -> JsonValue.JsonArray(value.map { fromKotlin(it) })
        is Array<*> -> JsonValue.JsonArray(value.map { fromKotlin(it) })
        else -> JsonValue.JsonFloat(Double.NaN)
    }

    /** A parameter dictionary. */
    fun parameters(parameters: Map<String, Any?>): Map<String, JsonValue> =
        parameters.mapValues { (_, v) -> fromKotlin(v) }

    /** JSON as Kotlin: null, Boolean, Long, Double, String, List, and Map (keys in order). */
    fun toKotlin(value: JsonValue): Any? = when (value) {
        is JsonValue.JsonNull -> null
        is JsonValue.JsonBool -> value.value
        is JsonValue.JsonInt -> value.value
        is JsonValue.JsonFloat -> value.value
        is JsonValue.JsonText -> value.value
        is JsonValue.JsonArray -> value.items.map { toKotlin(it) }
        is JsonValue.JsonObject -> value.members.associateTo(LinkedHashMap()) { it.key to toKotlin(it.value) }
    }

    /** Reads JSON text; throws [pims.ffi.PimsException] (2102) when it is not JSON. */
    fun parse(text: String): Any? = toKotlin(pims.ffi.jsonParse(text))

    /** Writes a value as compact JSON text, keys in order. */
    fun render(value: Any?): String = pims.ffi.jsonRender(fromKotlin(value))
}
