package lb.control.socket;

import java.nio.file.Path;
import java.util.Objects;

import lb.control.config.ConfigDefaults;

/**
 * Settings of the control socket.
 *
 * @param path              the socket file.
 * @param group             a group (name or number) whose members may use the socket too, or
 *                          {@code null}: without one the file is mode 0600, with one it is
 *                          chowned to the group and mode 0660.
 * @param maxLineBytes      the longest command line, without its line break.
 * @param maxOutputBytes    the most answer bytes held for one client that does not read them;
 *                          beyond this the client is closed.
 */
public record ControlSocketOptions(Path path, String group, int maxLineBytes, int maxOutputBytes)
{
    /** The longest command line. */
    public static final int DEFAULT_MAX_LINE_BYTES = 4096;
    /** The most unread answer bytes per client. */
    public static final int DEFAULT_MAX_OUTPUT_BYTES = 16 << 20;

    /** Checks the values. */
    public ControlSocketOptions
    {
        Objects.requireNonNull(path, "path");
        if (maxLineBytes < 16 || maxOutputBytes < maxLineBytes)
        {
            throw new IllegalArgumentException("maxLineBytes " + maxLineBytes + ", maxOutputBytes " + maxOutputBytes);
        }
    }

    /**
     * @param path the socket file.
     * @return the defaults at that path: no group, 4096-byte lines, 16 MiB of unread answers.
     */
    public static ControlSocketOptions at(final Path path)
    {
        return new ControlSocketOptions(path, null, DEFAULT_MAX_LINE_BYTES, DEFAULT_MAX_OUTPUT_BYTES);
    }

    /** @return the defaults at {@code /run/lb/lb.sock}. */
    public static ControlSocketOptions defaults()
    {
        return at(Path.of(ConfigDefaults.CONTROL_SOCKET));
    }

    /**
     * @param group a group name or number whose members may use the socket.
     * @return these options with the group.
     */
    public ControlSocketOptions withGroup(final String group)
    {
        return new ControlSocketOptions(path, group, maxLineBytes, maxOutputBytes);
    }

    /**
     * @param bytes the most unread answer bytes per client.
     * @return these options with that limit.
     */
    public ControlSocketOptions withMaxOutputBytes(final int bytes)
    {
        return new ControlSocketOptions(path, group, maxLineBytes, bytes);
    }
}
