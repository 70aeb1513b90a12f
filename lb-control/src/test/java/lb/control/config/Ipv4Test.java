package lb.control.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Ipv4Test
{
    @ParameterizedTest
    @CsvSource({
        "198.18.0.1,      0xC6120001",
        "198.19.255.254,  0xC613FFFE",
        "0.0.0.0,         0x00000000",
        "255.255.255.255, 0xFFFFFFFF",
        "10.0.0.255,      0x0A0000FF",
        "128.0.0.0,       0x80000000"})
    void parsesAndFormatsDottedQuads(final String text, final String hex)
    {
        final int expected = Integer.parseUnsignedInt(hex.substring(2), 16);
        assertEquals(expected, Ipv4.parse(text));
        assertEquals(text, Ipv4.format(expected));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "198.18.0      | expected an IPv4 address a.b.c.d, got '198.18.0' (3 parts, need 4)",
        "256.1.1.1     | expected an IPv4 address a.b.c.d, got '256.1.1.1' (256 is not 0..255)",
        "a.b.c.d       | expected an IPv4 address a.b.c.d, got 'a.b.c.d' ('a' is not a number 0..255)",
        "1.2.3.4.5     | expected an IPv4 address a.b.c.d, got '1.2.3.4.5' (5 parts, need 4)",
        "198           | expected an IPv4 address a.b.c.d, got '198' (1 part, need 4)",
        "1..2.3        | expected an IPv4 address a.b.c.d, got '1..2.3' (empty part)",
        "1.2.3.        | expected an IPv4 address a.b.c.d, got '1.2.3.' (empty part)",
        "010.0.0.1     | expected an IPv4 address a.b.c.d, got '010.0.0.1' ('010' has a leading zero)",
        "1.2.3.-4      | expected an IPv4 address a.b.c.d, got '1.2.3.-4' ('-4' is not a number 0..255)",
        "1.2.3.1000    | expected an IPv4 address a.b.c.d, got '1.2.3.1000' ('1000' is not a number 0..255)",
        "0x0a.0.0.1    | expected an IPv4 address a.b.c.d, got '0x0a.0.0.1' ('0x0a' is not a number 0..255)"})
    void rejectsAnythingButAStrictDottedQuad(final String text, final String message)
    {
        assertEquals(message, assertThrows(IllegalArgumentException.class, () -> Ipv4.parse(text)).getMessage());
    }
}
