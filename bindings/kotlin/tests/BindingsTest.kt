// The Kotlin bindings against a real pims-sim: the documentation's calls as written, and the
// facade's rules seen from Kotlin. Run by `cargo xtask bindings --test` (PIMS_SIM_URL,
// PIMS_SIM_ADMIN_TOKEN, PIMS_FIXTURES and PIMS_TMP come from it).
package pims.tests

import java.io.File
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.util.concurrent.CountDownLatch
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicIntegerArray
import kotlin.system.exitProcess
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import pims.Json
import pims.Message
import pims.Pims
import pims.ffi.PimsException
import pims.ffi.StepStatus
import pims.ffi.StepsFilter
import pims.ffi.StepsSelector

val simUrl: String = System.getenv("PIMS_SIM_URL") ?: error("PIMS_SIM_URL is not set")
val adminToken: String = System.getenv("PIMS_SIM_ADMIN_TOKEN") ?: error("PIMS_SIM_ADMIN_TOKEN is not set")
val fixtures = File(System.getenv("PIMS_FIXTURES") ?: error("PIMS_FIXTURES is not set"))
val tmp = File(System.getenv("PIMS_TMP") ?: error("PIMS_TMP is not set"))
const val PHONE = "+33612345678"
const val VIN = "VR1AB12C3D4567890"
var facades = 0

class Failure(message: String) : Exception(message)

fun check(condition: Boolean, what: () -> String) {
    if (!condition) throw Failure(what())
}

fun <T> checkEq(actual: T, expected: T, what: String) =
    check(actual == expected) { "$what: expected <$expected>, got <$actual>" }

/** An initialised facade on the simulator, with a cache directory (so a device) of its own. */
fun facade(): Pims {
    facades += 1
    val dir = File(tmp, "kotlin-cache-$facades")
    val pims = Pims()
    val init = pims.initialize(
        mapOf(
            "environnement" to simUrl,
            "credential" to "demo-token",
            "profile" to mapOf("account" to "demo", "cacheDirectory" to dir.path),
        ),
    )
    checkEq(init["status"], "SUCCEEDED", "initialize: $init")
    return pims
}

/** Waits for the one message a verb call answers. */
class Answer {
    private val queue = LinkedBlockingQueue<Message>()
    val callback: (Message) -> Unit = { queue.put(it) }
    fun await(): Message = queue.poll(60, TimeUnit.SECONDS) ?: throw Failure("no callback within 60 s")
}

fun getSync(pims: Pims, api: String, parameters: Map<String, Any?>): Message {
    val answer = Answer()
    pims.get(api, parameters, answer.callback)
    return answer.await()
}

fun setSync(pims: Pims, api: String, parameters: Map<String, Any?>): Message {
    val answer = Answer()
    pims.set(api, parameters, answer.callback)
    return answer.await()
}

fun withoutTid(m: Message): Map<String, Any?> = m.filterKeys { it != "transactionId" }

@Suppress("UNCHECKED_CAST")
fun fixtureAnswer(name: String): Map<String, Any?> =
    withoutTid((Json.parse(File(fixtures, name).readText()) as Map<String, Any?>)["answer"] as Message)

fun error(m: Message): Pair<Long, String> {
    @Suppress("UNCHECKED_CAST")
    val e = m["error"] as? Map<String, Any?> ?: throw Failure("not FAILED: $m")
    return Pair(e["code"] as Long, e["label"] as String)
}

@Suppress("UNCHECKED_CAST")
fun stepStatus(m: Message, step: String): Any? = ((m["result"] as Map<String, Any?>)[step] as Map<String, Any?>)["status"]

val http: HttpClient = HttpClient.newHttpClient()

fun admin(method: String, path: String, body: String? = null): Any? {
    val request = HttpRequest.newBuilder(URI.create(simUrl + path))
        .header("Authorization", "Bearer $adminToken")
        .header("Content-Type", "application/json")
        .method(method, if (body == null) HttpRequest.BodyPublishers.noBody() else HttpRequest.BodyPublishers.ofString(body))
        .build()
    val response = http.send(request, HttpResponse.BodyHandlers.ofString())
    check(response.statusCode() == 200) { "admin $method $path: ${response.statusCode()} ${response.body()}" }
    return Json.parse(response.body())
}

/** Enrols the facade's device with the demo account (the SMS read from the simulator). */
fun enroll(pims: Pims) {
    checkEq(getSync(pims, "pims.authentication.smscode", mapOf("type" to "enrollment"))["status"], "SUCCEEDED", "sms")
    @Suppress("UNCHECKED_CAST")
    val outbox = admin("GET", "/admin/sms?phoneNumber=%2B33612345678") as Map<String, Any?>
    @Suppress("UNCHECKED_CAST")
    val code = ((outbox["messages"] as List<Map<String, Any?>>).first())["code"] as String
    val enrolled = setSync(pims, "pims.authentication.enrollment", mapOf("action" to "enroll", "pinCode" to "1234", "smsCode" to code))
    checkEq(enrolled["status"], "SUCCEEDED", "enroll: $enrolled")
}

// ---- the cases ----

/** The documentation's three Kotlin calls, exactly as written, answer the fixtures' messages. */
fun documentationCallsAsWritten() {
    val pims = facade()
    val messages = LinkedBlockingQueue<Message>()
    fun handle(message: Message) = messages.put(message)

    pims.get("pims.subscription.steps",
      mapOf( /* parameters */
      Pair("carAssociationID", "987654"),
      Pair("resetSteps", false),
      Pair("stepsStatus", "all")
      )
    ) { message -> /* handle message */ handle(message) }
    val first = messages.poll(60, TimeUnit.SECONDS) ?: throw Failure("no callback")

    pims.get("pims.subscription.steps",
      mapOf( /* parameters */
      Pair("stepsID", "132324"),
      Pair("resetSteps", false),
      Pair("stepsStatus", "all")
      )
    ) { message -> /* handle message */ handle(message) }
    val second = messages.poll(60, TimeUnit.SECONDS) ?: throw Failure("no callback")

    pims.get("pims.subscription.step",
      mapOf( /* parameters */
      Pair("stepsID", "132324")
      )
    ) { message -> /* handle message */ handle(message) }
    val third = messages.poll(60, TimeUnit.SECONDS) ?: throw Failure("no callback")

    for ((message, name) in listOf(first to "steps-by-car-association.json", second to "steps-by-steps-id.json", third to "next-step.json")) {
        val expected = fixtureAnswer(name)
        checkEq(withoutTid(message), expected, name)
        // In the documentation's key order too.
        checkEq(Json.render(withoutTid(message)), Json.render(expected), "$name (key order)")
        check(Regex("^[0-9a-f]{8}-[0-9a-f]{4}$").matches(message["transactionId"] as String)) { "transactionId ${message["transactionId"]}" }
    }
    pims.close()
}

/** alreadyDone stays so when the backend turns it back to todo, until a reset. */
fun stickyUntilReset() {
    val pims = facade()
    val params = mapOf("carAssociationID" to "987654")
    checkEq(stepStatus(getSync(pims, "pims.subscription.steps", params), "deviceActivation"), "todo", "before")
    enroll(pims)
    checkEq(stepStatus(getSync(pims, "pims.subscription.steps", params), "deviceActivation"), "alreadyDone", "enrolled")
    val device = runBlocking { pims.deviceId() }
    admin("POST", "/admin/devices/$device/disable")
    checkEq(stepStatus(getSync(pims, "pims.subscription.steps", params), "deviceActivation"), "alreadyDone", "sticky")
    val reset = getSync(pims, "pims.subscription.steps", params + ("resetSteps" to true))
    checkEq(stepStatus(reset, "deviceActivation"), "todo", "after the reset")
    pims.close()
}

/** The next step, typed and by verb; null when every step is done. */
fun nextStepThenNone() = runBlocking {
    val pims = facade()
    val list = pims.steps(StepsSelector.CarAssociationId("987654"))
    checkEq(list.steps.map { it.name }, listOf("trusterPhoneNumber", "deviceActivation", "mediumCarKey"), "names")
    checkEq(pims.nextStep(list.stepsId)?.name, "deviceActivation", "next")
    enroll(pims)
    checkEq(pims.nextStep(list.stepsId)?.name, "mediumCarKey", "next after enrolment")
    admin("POST", "/admin/vehicles/$VIN/pair", "{\"deviceId\": \"${pims.deviceId()}\"}")
    checkEq(setSync(pims, "pims.vehicle.vin", mapOf("vin" to VIN))["status"], "SUCCEEDED", "select the vehicle")
    val key = setSync(pims, "pims.vehicle.carkey", mapOf())
    checkEq(key["status"], "SUCCEEDED", "carkey: $key")
    checkEq(pims.nextStep(list.stepsId), null, "nothing left")
    checkEq(withoutTid(getSync(pims, "pims.subscription.step", mapOf("stepsID" to list.stepsId))), fixtureAnswer("next-step-none.json"), "next-step-none.json")
    val todo = pims.steps(StepsSelector.StepsId(list.stepsId), StepsFilter.TODO)
    checkEq(todo.steps, listOf(), "todo after the walk")
    checkEq(pims.steps(StepsSelector.StepsId(list.stepsId)).steps.all { it.status == StepStatus.ALREADY_DONE }, true, "all done")
    pims.close()
}

/** Another device's stepsID: 2346, by verb and typed. */
fun anotherDevicesStepsId() = runBlocking {
    val a = facade()
    val b = facade()
    check(a.deviceId() != b.deviceId()) { "two cache directories, one device" }
    val id = a.steps(StepsSelector.CarAssociationId("987654")).stepsId
    checkEq(error(b.getAsync("pims.subscription.step", mapOf("stepsID" to id))), Pair(2346L, "No Step for this stepsID $id"), "verb")
    try {
        b.steps(StepsSelector.StepsId(id))
        throw Failure("typed: no exception")
    } catch (e: PimsException.Failed) {
        checkEq(e.code, 2346L, "typed code")
        checkEq(e.label, "No Step for this stepsID $id", "typed label")
    }
    a.close()
    b.close()
}

/** Bad input: FAILED 2101/2102 naming the parameter; the typed calls throw the same. */
fun badInputNamesTheParameter() = runBlocking {
    val pims = facade()
    val cases = listOf(
        Triple("pims.subscription.steps", mapOf<String, Any?>(), Pair(2101L, "Missing carAssociationID parameter")),
        Triple("pims.subscription.steps", mapOf("carAssociationID" to "987654", "stepsStatus" to "done"), Pair(2102L, "Invalid stepsStatus parameter")),
        Triple("pims.subscription.steps", mapOf("carAssociationID" to "987654", "resetSteps" to "maybe"), Pair(2102L, "Invalid resetSteps parameter")),
        Triple("pims.subscription.steps", mapOf("vin" to "VR1"), Pair(2102L, "Invalid vin parameter")),
        Triple("pims.subscription.step", mapOf<String, Any?>(), Pair(2101L, "Missing stepsID parameter")),
        // A Kotlin value JSON cannot carry.
        Triple("pims.subscription.steps", mapOf("carAssociationID" to Any()), Pair(2102L, "Invalid carAssociationID parameter")),
        Triple("pims.subscription.steps", mapOf("carAssociationID" to Double.NaN), Pair(2102L, "Invalid carAssociationID parameter")),
        Triple("pims.nothing", mapOf<String, Any?>(), Pair(2002L, "API not supported")),
    )
    for ((api, params, expected) in cases) {
        checkEq(error(getSync(pims, api, params)), expected, "get $api $params")
        checkEq(error(pims.getAsync(api, params)), expected, "getAsync $api $params")
    }
    try {
        pims.steps(StepsSelector.Vin("VR1"))
        throw Failure("typed: no exception")
    } catch (e: PimsException.Failed) {
        checkEq(Pair(e.code, e.label), Pair(2102L, "Invalid vin parameter"), "typed")
    }
    pims.close()
}

/** 100 concurrent calls: exactly one callback each. */
fun oneCallbackPerCallUnderLoad() {
    val pims = facade()
    val counts = AtomicIntegerArray(100)
    val wrong = LinkedBlockingQueue<String>()
    val all = CountDownLatch(100)
    for (i in 0 until 100) {
        val params: Map<String, Any?> = if (i % 2 == 0) mapOf("carAssociationID" to "987654") else mapOf("vin" to "bad")
        pims.get("pims.subscription.steps", params) { message ->
            if ((message["status"] == "SUCCEEDED") != (i % 2 == 0)) wrong.put("$i: $message")
            counts.incrementAndGet(i)
            all.countDown()
        }
    }
    check(all.await(120, TimeUnit.SECONDS)) { "missing callbacks: ${(0 until 100).filter { counts[it] == 0 }}" }
    // A second answer would come right behind the first: give it the time to.
    Thread.sleep(500)
    check((0 until 100).all { counts[it] == 1 }) { "callbacks per call: ${(0 until 100).map { counts[it] }}" }
    check(wrong.isEmpty()) { "wrong answers: $wrong" }
    pims.close()
}

/** The suspend forms, and 20 of them at once. */
fun suspendCalls() = runBlocking {
    val pims = facade()
    val m = pims.getAsync("pims.subscription.steps", mapOf("carAssociationID" to "987654", "stepsStatus" to "todo"))
    checkEq(m["status"], "SUCCEEDED", "getAsync: $m")
    // The filter applies after the merge: only todo steps (trusterPhoneNumber is done).
    @Suppress("UNCHECKED_CAST")
    val result = m["result"] as Map<String, Any?>
    checkEq(result.keys.first(), "stepsID", "todo filter keeps the stepsID")
    check("trusterPhoneNumber" !in result && result.keys.drop(1).all { stepStatus(m, it) == "todo" }) { "todo filter: $m" }
    val many = (0 until 20).map { async { pims.getAsync("pims.subscription.steps", mapOf("carAssociationID" to "987654")) } }.awaitAll()
    check(many.all { it["status"] == "SUCCEEDED" }) { "$many" }
    checkEq(many.map { it["transactionId"] }.toSet().size, 20, "one transaction id per call")
    checkEq(pims.services(VIN).map { it.code }.isNotEmpty(), true, "services")
    checkEq(pims.cachedLists().size, 1, "one list cached")
    checkEq(pims.wipeCache().lists, 1UL, "wiped")
    pims.close()
}

/** release, then every call answers 2001. */
fun releaseThenCall() = runBlocking {
    val pims = facade()
    pims.release()
    check(!pims.isInitialized) { "still initialised" }
    val params = mapOf("carAssociationID" to "987654")
    checkEq(error(getSync(pims, "pims.subscription.steps", params)).first, 2001L, "get")
    checkEq(error(pims.getAsync("pims.subscription.steps", params)).first, 2001L, "getAsync")
    try {
        pims.steps(StepsSelector.CarAssociationId("987654"))
        throw Failure("typed: no exception")
    } catch (e: PimsException.Failed) {
        checkEq(e.code, 2001L, "typed")
    }
    pims.close()
}

fun main() {
    // The documentation's calls first: the simulator issues 132324 to the first list asked for.
    val cases = listOf(
        "documentation_calls_as_written" to ::documentationCallsAsWritten,
        "sticky_until_reset" to ::stickyUntilReset,
        "next_step_then_none" to ::nextStepThenNone,
        "another_devices_steps_id_is_2346" to ::anotherDevicesStepsId,
        "bad_input_names_the_parameter" to ::badInputNamesTheParameter,
        "one_callback_per_call_under_100_concurrent_calls" to ::oneCallbackPerCallUnderLoad,
        "suspend_calls" to ::suspendCalls,
        "release_then_a_call_is_2001" to ::releaseThenCall,
    )
    var failed = 0
    for ((name, case) in cases) {
        try {
            case()
            println("kotlin: $name ... ok")
        } catch (e: Throwable) {
            failed += 1
            println("kotlin: $name ... FAILED: $e")
            e.printStackTrace()
        }
    }
    println("kotlin: ${cases.size - failed} passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}
