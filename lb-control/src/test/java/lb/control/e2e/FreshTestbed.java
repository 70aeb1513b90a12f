package lb.control.e2e;

import java.nio.file.Path;
import lb.control.testbed.Testbed;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fresh testbed (offloads on, three servers running) for every test, so no late packet of an
 * earlier test's connections reaches the next test's lb.
 */
abstract class FreshTestbed
{
    Testbed testbed;

    @TempDir
    Path dir;

    @BeforeEach
    void up()
    {
        testbed = bringUp();
        testbed.startServers();
    }

    /** The testbed each test gets: IPv4 only, offloads on, three servers; a test class may want another. */
    Testbed bringUp()
    {
        return Testbed.up(true, 3);
    }

    @AfterEach
    void down()
    {
        if (testbed != null)
        {
            testbed.close();
        }
    }
}
