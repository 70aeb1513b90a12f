package lb.control.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class JsonTest
{
    @Test
    void writesCompactJsonOnOneLine()
    {
        final Map<String, Object> object = new LinkedHashMap<>();
        object.put("name", "say \"hi\"\n\\ \u0001");
        object.put("count", 12L);
        object.put("ratio", 0.25);
        object.put("whole", 2.0);
        object.put("nan", Double.NaN);
        object.put("ok", true);
        object.put("none", null);
        object.put("list", List.of(1, "two", List.of()));
        assertEquals("{\"name\":\"say \\\"hi\\\"\\n\\\\ \\u0001\",\"count\":12,\"ratio\":0.25,\"whole\":2,\"nan\":null," +
            "\"ok\":true,\"none\":null,\"list\":[1,\"two\",[]]}", Json.write(object));
    }

    @Test
    void parsesWhatItWrites()
    {
        final Map<String, Object> object = new LinkedHashMap<>();
        object.put("text", "tab\t quote\" backslash\\ newline\n unicode \u00e9\u2028");
        object.put("long", Long.MAX_VALUE);
        object.put("negative", -5L);
        object.put("double", 1.5e-7);
        object.put("list", new ArrayList<>(Arrays.asList(true, false, null, new LinkedHashMap<>())));
        assertEquals(object, Json.parse(Json.write(object)));
    }

    @Test
    void parsesStandardJson()
    {
        assertEquals(Map.of("a", List.of(1L, 2.5, "x/y", "\u00e9")),
            Json.parse(" { \"a\" : [ 1 , 2.5e0, \"x\\/y\", \"\\u00E9\" ] } "));
        assertEquals(1e30, Json.parse("1000000000000000000000000000000"));
    }

    @Test
    void rejectsBrokenJson()
    {
        for (final String text : List.of("", "{", "[1,]", "{\"a\" 1}", "\"open", "tru", "1 2", "-", "{1:2}", "\"\\x\"",
            "[".repeat(100) + "]".repeat(100)))
        {
            assertThrows(IllegalArgumentException.class, () -> Json.parse(text), text);
        }
    }
}
