package lb.control.socket;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Who may talk on the control socket, decided from the peer's credentials (SO_PEERCRED): root,
 * the user lb runs as (who owns the socket file), and, when a group is configured, the members of
 * that group. The socket file's mode is the first line of defence; this check is the second, and
 * the one that holds if the file's mode is loosened by mistake.
 */
public final class PeerAccess
{
    /** {@link #groupId} when no group is configured. */
    public static final int NO_GROUP = -1;

    /** The credentials the kernel recorded for a peer when it connected. */
    public record Peer(int pid, int uid, int gid)
    {
        @Override
        public String toString()
        {
            return "pid " + pid + " uid " + uid + " gid " + gid;
        }
    }

    /** Whether a peer belongs to a group through its supplementary groups. */
    @FunctionalInterface
    public interface SupplementaryGroups
    {
        /**
         * @param peer a peer.
         * @param gid  a group id.
         * @return whether the peer's process holds that group.
         */
        boolean contains(Peer peer, int gid);
    }

    private final int ownerUid;
    private final int groupId;
    private final SupplementaryGroups supplementaryGroups;

    /**
     * @param ownerUid            the uid lb runs as.
     * @param groupId             the configured group, or {@link #NO_GROUP}.
     * @param supplementaryGroups looks up a peer's other groups.
     */
    public PeerAccess(final int ownerUid, final int groupId, final SupplementaryGroups supplementaryGroups)
    {
        this.ownerUid = ownerUid;
        this.groupId = groupId;
        this.supplementaryGroups = supplementaryGroups;
    }

    /**
     * @param ownerUid the uid lb runs as.
     * @param groupId  the configured group, or {@link #NO_GROUP}.
     * @return access that reads supplementary groups from {@code /proc/PID/status}.
     */
    public static PeerAccess forProcesses(final int ownerUid, final int groupId)
    {
        return new PeerAccess(ownerUid, groupId, PeerAccess::procStatusHasGroup);
    }

    /** @return the uid that owns the socket. */
    public int ownerUid()
    {
        return ownerUid;
    }

    /** @return the configured group, or {@link #NO_GROUP}. */
    public int groupId()
    {
        return groupId;
    }

    /**
     * @param peer the connecting process.
     * @return whether it may send commands.
     */
    public boolean permits(final Peer peer)
    {
        if (peer.uid() == 0 || peer.uid() == ownerUid)
        {
            return true;
        }
        if (groupId == NO_GROUP)
        {
            return false;
        }
        return peer.gid() == groupId || supplementaryGroups.contains(peer, groupId);
    }

    /**
     * Reads the "Groups:" line of {@code /proc/PID/status}. A process that has gone, or is in
     * another pid namespace (pid 0), holds no groups as far as this check knows.
     */
    static boolean procStatusHasGroup(final Peer peer, final int gid)
    {
        if (peer.pid() <= 0)
        {
            return false;
        }
        try
        {
            return statusHasGroup(Files.readString(Path.of("/proc", Integer.toString(peer.pid()), "status"),
                StandardCharsets.US_ASCII), gid);
        }
        catch (final IOException | RuntimeException ex)
        {
            return false;
        }
    }

    /**
     * @param status the text of a {@code /proc/PID/status} file.
     * @param gid    a group id.
     * @return whether its {@code Groups:} line lists the group.
     */
    static boolean statusHasGroup(final String status, final int gid)
    {
        for (final String line : status.split("\n"))
        {
            if (line.startsWith("Groups:"))
            {
                for (final String group : line.substring("Groups:".length()).trim().split("\\s+"))
                {
                    if (group.equals(Integer.toString(gid)))
                    {
                        return true;
                    }
                }
                return false;
            }
        }
        return false;
    }
}
