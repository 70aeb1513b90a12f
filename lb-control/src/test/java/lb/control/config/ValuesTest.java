package lb.control.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ValuesTest
{
    @ParameterizedTest
    @CsvSource({
        "500ms, 500",
        "1ms,   1",
        "5s,    5000",
        "300s,  300000",
        "2m,    120000",
        "1h,    3600000",
        "36h,   129600000"})
    void parsesDurationsWithUnits(final String text, final long millis)
    {
        assertEquals(Duration.ofMillis(millis), Values.duration(text));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "5        | expected a duration such as 500ms, 5s, 2m or 1h, got '5'",
        "5d       | expected a duration such as 500ms, 5s, 2m or 1h, got '5d'",
        "-1s      | expected a duration such as 500ms, 5s, 2m or 1h, got '-1s'",
        "1.5s     | expected a duration such as 500ms, 5s, 2m or 1h, got '1.5s'",
        "s        | expected a duration such as 500ms, 5s, 2m or 1h, got 's'",
        "5 s      | expected a duration such as 500ms, 5s, 2m or 1h, got '5 s'",
        "5S       | expected a duration such as 500ms, 5s, 2m or 1h, got '5S'",
        "0s       | expected a positive duration, got '0s'",
        "0ms      | expected a positive duration, got '0ms'",
        "9999999999999h | duration '9999999999999h' is too long",
        "99999999999999999999ms | duration '99999999999999999999ms' is too long"})
    void rejectsBadDurations(final String text, final String message)
    {
        assertEquals(message, assertThrows(IllegalArgumentException.class, () -> Values.duration(text)).getMessage());
    }

    @ParameterizedTest
    @CsvSource({"1ms", "999ms", "1500ms", "1s", "90s", "1m", "61m", "1h", "25h"})
    void formatsDurationsSoTheyParseBackEqual(final String text)
    {
        assertEquals(text, Values.formatDuration(Values.duration(text)));
    }

    @ParameterizedTest
    @CsvSource({"0, 0", "1us, 1", "20us, 20", "1500us, 1500", "2ms, 2000", "10ms, 10000", "10000us, 10000"})
    void parsesIdleSpinsInMicroseconds(final String text, final long micros)
    {
        assertEquals(Duration.ofNanos(micros * 1_000), Values.idleSpin(text));
        assertEquals(Values.idleSpin(text), Values.idleSpin(Values.formatIdleSpin(Values.idleSpin(text))));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "20       | expected 0 or a duration such as 20us or 1ms, got '20'",
        "1s       | expected 0 or a duration such as 20us or 1ms, got '1s'",
        "-5us     | expected 0 or a duration such as 20us or 1ms, got '-5us'",
        "00       | expected 0 or a duration such as 20us or 1ms, got '00'",
        "11ms     | idle spin '11ms' is longer than 10ms",
        "10001us  | idle spin '10001us' is longer than 10ms",
        "99999999999999999ms | idle spin '99999999999999999ms' is longer than 10ms"})
    void rejectsBadIdleSpins(final String text, final String message)
    {
        assertEquals(message, assertThrows(IllegalArgumentException.class, () -> Values.idleSpin(text)).getMessage());
    }

    @Test
    void parsesWorkerCpusInWorkerOrder()
    {
        assertEquals(List.of(), Values.workerCpus("none"));
        assertEquals(List.of(3), Values.workerCpus("3"));
        assertEquals(List.of(2, 0, 1023), Values.workerCpus("2,0,1023"));
        assertEquals("2,0,1023", Values.formatWorkerCpus(Values.workerCpus("2,0,1023")));
        assertEquals("none", Values.formatWorkerCpus(List.of()));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "1024  | expected none or CPU numbers 0..1023 separated by commas, got '1024'",
        "1,,2  | expected none or CPU numbers 0..1023 separated by commas, got '1,,2'",
        "-1    | expected none or CPU numbers 0..1023 separated by commas, got '-1'",
        "1 2   | expected none or CPU numbers 0..1023 separated by commas, got '1 2'",
        "3,1,3 | CPU 3 is given twice in '3,1,3': one worker per CPU"})
    void rejectsBadWorkerCpus(final String text, final String message)
    {
        assertEquals(message, assertThrows(IllegalArgumentException.class, () -> Values.workerCpus(text)).getMessage());
    }

    @Test
    void formatsIdleSpinsInTheLargestExactUnit()
    {
        assertEquals("0", Values.formatIdleSpin(Duration.ZERO));
        assertEquals("20us", Values.formatIdleSpin(Duration.ofNanos(20_000)));
        assertEquals("3ms", Values.formatIdleSpin(Duration.ofMillis(3)));
    }

    @Test
    void formatsInTheLargestExactUnit()
    {
        assertEquals("5m", Values.formatDuration(Duration.ofSeconds(300)));
        assertEquals("2h", Values.formatDuration(Duration.ofMinutes(120)));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "fastest | unknown scheduler 'fastest', expected one of random, rr, wrr, lc, wlc, sh, maglev",
        "wrrr    | unknown scheduler 'wrrr' (did you mean 'wrr'?), expected one of random, rr, wrr, lc, wlc, sh, maglev",
        "Maglev  | unknown scheduler 'Maglev' (did you mean 'maglev'?), expected one of random, rr, wrr, lc, wlc, sh, maglev"})
    void unknownSchedulerListsTheValidNames(final String text, final String message)
    {
        assertEquals(message, assertThrows(IllegalArgumentException.class, () -> Values.scheduler(text)).getMessage());
    }

    @Test
    void acceptsEverySchedulerName()
    {
        for (final String name : ServiceConfig.SCHEDULERS)
        {
            assertEquals(name, Values.scheduler(name));
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "0       | expected a port 1..65535, got '0'",
        "65536   | expected a port 1..65535, got '65536'",
        "+80     | expected a port 1..65535, got '+80'",
        "''      | expected a port 1..65535, got ''",
        "http    | expected a port 1..65535, got 'http'"})
    void rejectsBadPorts(final String text, final String message)
    {
        assertEquals(message, assertThrows(IllegalArgumentException.class, () -> Values.port(text)).getMessage());
    }

    @Test
    void acceptsPortAndWeightBounds()
    {
        assertEquals(1, Values.port("1"));
        assertEquals(65535, Values.port("65535"));
        assertEquals(0, Values.weight("0"));
        assertEquals(10000, Values.weight("10000"));
        assertEquals(1024, Values.flowCapacity("1024"));
        assertEquals(12_500_000, Values.flowCapacity("12500000"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "65536     | expected a prime 2..16777213 (such as 251, 65537 or 655373), got '65536'",
        "1         | expected a prime 2..16777213 (such as 251, 65537 or 655373), got '1'",
        "16777259  | expected a prime 2..16777213 (such as 251, 65537 or 655373), got '16777259'",
        "65535     | expected a prime 2..16777213 (such as 251, 65537 or 655373), got '65535'"})
    void maglevTableSizeMustBePrime(final String text, final String message)
    {
        assertEquals(message,
            assertThrows(IllegalArgumentException.class, () -> Values.maglevTableSize(text)).getMessage());
    }

    @Test
    void acceptsPrimeMaglevTableSizes()
    {
        for (final int prime : new int[] {2, 3, 251, 65537, 655373, 16777213})
        {
            assertEquals(prime, Values.maglevTableSize(Integer.toString(prime)));
        }
    }

    @Test
    void parsesServiceAndBackendAddresses()
    {
        assertEquals(new Values.ServiceAddress(0xC6120064, 80, Protocol.TCP), Values.serviceAddress("198.18.0.100:80/tcp"));
        assertEquals(new Values.ServiceAddress(0xC6120065, 53, Protocol.UDP), Values.serviceAddress("198.18.0.101:53/udp"));
        assertEquals(new Values.BackendAddress(0xC612010B, BackendConfig.SAME_PORT), Values.backendAddress("198.18.1.11"));
        assertEquals(new Values.BackendAddress(0xC612010C, 8080), Values.backendAddress("198.18.1.12:8080"));
    }

    @Test
    void controlSocketPathMustFitSunPath()
    {
        final String longest = "/" + "x".repeat(106);
        assertEquals(longest, Values.controlSocket(longest).toString());
        assertEquals("path is 108 bytes, a unix socket path holds at most 107",
            assertThrows(IllegalArgumentException.class, () -> Values.controlSocket(longest + "y")).getMessage());
    }

    @Test
    void suggestsOnlyCloseWords()
    {
        final List<String> words = List.of("client-interface", "server-interface", "weight");
        assertEquals(" (did you mean 'client-interface'?)", Values.didYouMean("client-interfce", words));
        assertEquals(" (did you mean 'server-interface'?)", Values.didYouMean("sever-interface", words));
        assertEquals(" (did you mean 'weight'?)", Values.didYouMean("wieght", words));
        assertEquals("", Values.didYouMean("frobnicate", words));
        assertEquals("", Values.didYouMean("w", words));
    }

    @Test
    void editDistanceCountsSwapsOfNeighboursAsOne()
    {
        assertEquals(0, Values.editDistance("weight", "weight"));
        assertEquals(1, Values.editDistance("wieght", "weight"));
        assertEquals(1, Values.editDistance("client-interfce", "client-interface"));
        assertEquals(3, Values.editDistance("", "abc"));
        assertEquals(3, Values.editDistance("kitten", "sitting"));
    }
}
