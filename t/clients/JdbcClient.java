// JDBC (pgjdbc) and an idgen-keyed table: getGeneratedKeys() after single
// inserts and after a batch.  Connects where PGHOST, PGPORT, PGDATABASE and
// PGUSER say.  Run as: java -cp postgresql.jar JdbcClient.java
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;

public class JdbcClient {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://" + System.getenv("PGHOST") + ":" + System.getenv("PGPORT")
                + "/" + System.getenv("PGDATABASE");
        Map<Long, String> inserted = new HashMap<>();
        try (Connection conn = DriverManager.getConnection(url, System.getenv("PGUSER"), "")) {
            String sql = "INSERT INTO jdbc_orders (item) VALUES (?)";
            // one row at a time: the driver adds RETURNING for the generated key
            try (PreparedStatement ps = conn.prepareStatement(sql, Statement.RETURN_GENERATED_KEYS)) {
                for (int i = 0; i < 100; i++) {
                    ps.setString(1, "item " + i);
                    ps.executeUpdate();
                    try (ResultSet keys = ps.getGeneratedKeys()) {
                        keys.next();
                        inserted.put(keys.getLong("id"), "item " + i);
                    }
                }
            }
            // a batch: one generated key per row
            try (PreparedStatement ps = conn.prepareStatement(sql, new String[] {"id"})) {
                for (int i = 0; i < 100; i++) {
                    ps.setString(1, "batch " + i);
                    ps.addBatch();
                }
                ps.executeBatch();
                try (ResultSet keys = ps.getGeneratedKeys()) {
                    for (int i = 0; keys.next(); i++) {
                        inserted.put(keys.getLong(1), "batch " + i);
                    }
                }
            }

            check(inserted.size() == 200, "duplicate keys: " + inserted.size());
            try (Statement st = conn.createStatement();
                 ResultSet rs = st.executeQuery("SELECT id, item FROM jdbc_orders")) {
                Map<Long, String> stored = new HashMap<>();
                while (rs.next()) {
                    stored.put(rs.getLong(1), rs.getString(2));
                }
                for (Map.Entry<Long, String> e : inserted.entrySet()) {
                    check(e.getValue().equals(stored.get(e.getKey())),
                            "key " + e.getKey() + " not stored as returned");
                }
            }
            System.out.println("pgjdbc " + conn.getMetaData().getDriverVersion() + " on Java "
                    + System.getProperty("java.version") + ": " + inserted.size()
                    + " distinct keys, each stored as returned");
        }
    }

    static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }
}
