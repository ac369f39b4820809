package search_test

// Word lists and real cities for generate. Coordinates are city centres in
// decimal degrees (WGS 84); currency is the local ISO 4217 code.

type genCity struct {
	name     string
	lat, lon float64
	currency string
}

var genCities = []genCity{
	// Europe
	{"London", 51.5074, -0.1278, "GBP"}, {"Manchester", 53.4808, -2.2426, "GBP"},
	{"Birmingham", 52.4862, -1.8904, "GBP"}, {"Liverpool", 53.4084, -2.9916, "GBP"},
	{"Glasgow", 55.8642, -4.2518, "GBP"}, {"Edinburgh", 55.9533, -3.1883, "GBP"},
	{"Dublin", 53.3498, -6.2603, "EUR"}, {"Paris", 48.8566, 2.3522, "EUR"},
	{"Lyon", 45.7640, 4.8357, "EUR"}, {"Marseille", 43.2965, 5.3698, "EUR"},
	{"Berlin", 52.5200, 13.4050, "EUR"}, {"Hamburg", 53.5511, 9.9937, "EUR"},
	{"München", 48.1351, 11.5820, "EUR"}, {"Köln", 50.9375, 6.9603, "EUR"},
	{"Frankfurt", 50.1109, 8.6821, "EUR"}, {"Vienna", 48.2082, 16.3738, "EUR"},
	{"Zürich", 47.3769, 8.5417, "CHF"}, {"Geneva", 46.2044, 6.1432, "CHF"},
	{"Amsterdam", 52.3676, 4.9041, "EUR"}, {"Rotterdam", 51.9244, 4.4777, "EUR"},
	{"Brussels", 50.8503, 4.3517, "EUR"}, {"Antwerp", 51.2194, 4.4025, "EUR"},
	{"Madrid", 40.4168, -3.7038, "EUR"}, {"Barcelona", 41.3874, 2.1686, "EUR"},
	{"Valencia", 39.4699, -0.3763, "EUR"}, {"Seville", 37.3891, -5.9845, "EUR"},
	{"Lisbon", 38.7223, -9.1393, "EUR"}, {"Porto", 41.1579, -8.6291, "EUR"},
	{"Rome", 41.9028, 12.4964, "EUR"}, {"Milan", 45.4642, 9.1900, "EUR"},
	{"Naples", 40.8518, 14.2681, "EUR"}, {"Turin", 45.0703, 7.6869, "EUR"},
	{"Florence", 43.7696, 11.2558, "EUR"}, {"Athens", 37.9838, 23.7275, "EUR"},
	{"Stockholm", 59.3293, 18.0686, "SEK"}, {"Gothenburg", 57.7089, 11.9746, "SEK"},
	{"Malmö", 55.6050, 13.0038, "SEK"}, {"Oslo", 59.9139, 10.7522, "NOK"},
	{"Bergen", 60.3913, 5.3221, "NOK"}, {"Copenhagen", 55.6761, 12.5683, "DKK"},
	{"Aarhus", 56.1629, 10.2039, "DKK"}, {"Helsinki", 60.1699, 24.9384, "EUR"},
	{"Warsaw", 52.2297, 21.0122, "PLN"}, {"Kraków", 50.0647, 19.9450, "PLN"},
	{"Prague", 50.0755, 14.4378, "CZK"}, {"Budapest", 47.4979, 19.0402, "HUF"},
	{"Bucharest", 44.4268, 26.1025, "RON"}, {"Sofia", 42.6977, 23.3219, "BGN"},
	{"Belgrade", 44.7866, 20.4489, "RSD"}, {"Zagreb", 45.8150, 15.9819, "EUR"},
	{"Istanbul", 41.0082, 28.9784, "TRY"},
	// Americas
	{"New York", 40.7128, -74.0060, "USD"}, {"Los Angeles", 34.0522, -118.2437, "USD"},
	{"Chicago", 41.8781, -87.6298, "USD"}, {"Houston", 29.7604, -95.3698, "USD"},
	{"Phoenix", 33.4484, -112.0740, "USD"}, {"Philadelphia", 39.9526, -75.1652, "USD"},
	{"San Antonio", 29.4241, -98.4936, "USD"}, {"San Diego", 32.7157, -117.1611, "USD"},
	{"Dallas", 32.7767, -96.7970, "USD"}, {"Austin", 30.2672, -97.7431, "USD"},
	{"San Francisco", 37.7749, -122.4194, "USD"}, {"Seattle", 47.6062, -122.3321, "USD"},
	{"Denver", 39.7392, -104.9903, "USD"}, {"Boston", 42.3601, -71.0589, "USD"},
	{"Nashville", 36.1627, -86.7816, "USD"}, {"Atlanta", 33.7490, -84.3880, "USD"},
	{"Miami", 25.7617, -80.1918, "USD"}, {"New Orleans", 29.9511, -90.0715, "USD"},
	{"Las Vegas", 36.1699, -115.1398, "USD"}, {"Portland", 45.5152, -122.6784, "USD"},
	{"Detroit", 42.3314, -83.0458, "USD"}, {"Minneapolis", 44.9778, -93.2650, "USD"},
	{"Washington", 38.9072, -77.0369, "USD"}, {"Toronto", 43.6532, -79.3832, "CAD"},
	{"Montréal", 45.5017, -73.5673, "CAD"}, {"Vancouver", 49.2827, -123.1207, "CAD"},
	{"Calgary", 51.0447, -114.0719, "CAD"}, {"Mexico City", 19.4326, -99.1332, "MXN"},
	{"Guadalajara", 20.6597, -103.3496, "MXN"}, {"Monterrey", 25.6866, -100.3161, "MXN"},
	{"São Paulo", -23.5505, -46.6333, "BRL"}, {"Rio de Janeiro", -22.9068, -43.1729, "BRL"},
	{"Buenos Aires", -34.6037, -58.3816, "ARS"}, {"Santiago", -33.4489, -70.6693, "CLP"},
	{"Bogotá", 4.7110, -74.0721, "COP"}, {"Lima", -12.0464, -77.0428, "PEN"},
	// Asia, Oceania, Africa
	{"Tokyo", 35.6762, 139.6503, "JPY"}, {"Osaka", 34.6937, 135.5023, "JPY"},
	{"Seoul", 37.5665, 126.9780, "KRW"}, {"Busan", 35.1796, 129.0756, "KRW"},
	{"Beijing", 39.9042, 116.4074, "CNY"}, {"Shanghai", 31.2304, 121.4737, "CNY"},
	{"Hong Kong", 22.3193, 114.1694, "HKD"}, {"Taipei", 25.0330, 121.5654, "TWD"},
	{"Singapore", 1.3521, 103.8198, "SGD"}, {"Bangkok", 13.7563, 100.5018, "THB"},
	{"Kuala Lumpur", 3.1390, 101.6869, "MYR"}, {"Jakarta", -6.2088, 106.8456, "IDR"},
	{"Manila", 14.5995, 120.9842, "PHP"}, {"Mumbai", 19.0760, 72.8777, "INR"},
	{"Delhi", 28.7041, 77.1025, "INR"}, {"Bengaluru", 12.9716, 77.5946, "INR"},
	{"Dubai", 25.2048, 55.2708, "AED"}, {"Tel Aviv", 32.0853, 34.7818, "ILS"},
	{"Sydney", -33.8688, 151.2093, "AUD"}, {"Melbourne", -37.8136, 144.9631, "AUD"},
	{"Brisbane", -27.4698, 153.0251, "AUD"}, {"Perth", -31.9505, 115.8605, "AUD"},
	{"Auckland", -36.8485, 174.7633, "NZD"}, {"Cape Town", -33.9249, 18.4241, "ZAR"},
	{"Johannesburg", -26.2041, 28.0473, "ZAR"}, {"Lagos", 6.5244, 3.3792, "NGN"},
	{"Nairobi", -1.2921, 36.8219, "KES"}, {"Cairo", 30.0444, 31.2357, "EGP"},
	{"Casablanca", 33.5731, -7.5898, "MAD"},
}

var genVenuePrefixes = []string{
	"Royal", "Grand", "Olympia", "Palace", "Union", "Harbour", "Riverside", "Central",
	"Metro", "Victoria", "Liberty", "Crystal", "Orpheum", "Paramount", "Apollo",
	"Majestic", "Empire", "Eden", "Phoenix", "Atlas", "Summit", "Capitol", "Jubilee",
	"Sunset", "Granary", "Foundry", "Old Mill", "Depot", "Warehouse", "Lighthouse",
	"Northern", "Southern", "Eastside", "Westside", "Garden", "Park", "Market",
	"Station", "Civic", "Memorial", "Heritage", "Unity", "Horizon", "Meridian",
	"Pioneer", "Regent", "Alhambra", "Coliseum", "Ironworks", "Boathouse",
}

// genVenueKinds pairs a venue kind with its seat range.
var genVenueKinds = []struct {
	name     string
	min, max int
}{
	{"Arena", 6000, 22000}, {"Stadium", 20000, 80000}, {"Hall", 800, 3000},
	{"Theatre", 400, 2500}, {"Club", 150, 1500}, {"Ballroom", 500, 2000},
	{"Pavilion", 1000, 6000}, {"Amphitheatre", 3000, 15000}, {"Opera House", 1200, 3000},
	{"Dome", 10000, 50000}, {"Forum", 2000, 12000}, {"Auditorium", 600, 3000},
	{"Center", 2000, 18000}, {"Field", 15000, 60000}, {"Lounge", 100, 600},
}

var genAdjectives = []string{
	"Electric", "Silver", "Golden", "Midnight", "Crimson", "Velvet", "Neon", "Wild",
	"Quiet", "Broken", "Burning", "Frozen", "Hollow", "Lucky", "Lonely", "Savage",
	"Gentle", "Cosmic", "Rusty", "Shining", "Stone", "Paper", "Iron", "Crystal",
	"Scarlet", "Blue", "Black", "White", "Sonic", "Atomic", "Northern", "Southern",
	"Restless", "Endless", "Hidden", "Secret", "Sacred", "Royal", "Dizzy", "Vintage",
	"Magnetic", "Lunar", "Solar", "Arctic", "Tropical", "Wandering", "Howling",
	"Painted", "Salty", "Sweet", "Bitter", "Happy", "Rebel", "Radiant", "Twisted",
	"Emerald", "Amber", "Indigo", "Copper", "Marble",
}

var genNouns = []string{
	"Wolf", "Raven", "Tiger", "Harbor", "River", "Machine", "Engine", "Garden",
	"Mirror", "Shadow", "Thunder", "Lightning", "Ocean", "Desert", "Forest", "Canyon",
	"Comet", "Rocket", "Dragon", "Phoenix", "Serpent", "Falcon", "Sparrow", "Lion",
	"Bear", "Fox", "Hawk", "Horse", "Whale", "Cathedral", "Castle", "Tower", "Bridge",
	"Highway", "Railroad", "Satellite", "Signal", "Radio", "Cascade", "Echo", "Pulse",
	"Heart", "Ghost", "Angel", "Saint", "Sinner", "Prophet", "Pilgrim", "Sailor",
	"Soldier", "Dancer", "Dreamer", "Drifter", "Stranger", "Orchard", "Meadow",
	"Glacier", "Volcano", "Island", "Lagoon", "Monsoon", "Avalanche", "Cyclone",
	"Parade", "Carnival", "Circus", "Symphony", "Rhapsody", "Ballad", "Anthem",
	"Lantern", "Compass", "Anchor", "Crown", "Dagger", "Arrow", "Mountain", "Valley",
	"Prairie",
}

var genFirstNames = []string{
	"Ava", "Liam", "Noah", "Emma", "Olivia", "Lucas", "Mia", "Elijah", "Sofia",
	"Mateo", "Amara", "Kenji", "Yuki", "Priya", "Arjun", "Fatima", "Omar", "Leila",
	"Hugo", "Chloé", "Léa", "Jonas", "Freya", "Astrid", "Nils", "Ingrid", "Marco",
	"Giulia", "Lorenzo", "Chiara", "Diego", "Valentina", "Camila", "Santiago",
	"Isabela", "Thiago", "Zoe", "Max", "Ruby", "Jasper", "Felix", "Iris", "Oscar",
	"Hazel", "Theo", "Nina", "Malik", "Aisha", "Kofi", "Zanele", "Tariq", "Nadia",
	"Ivan", "Katya", "Dmitri", "Anya", "Jin", "Hana", "Minho", "Seo-yeon", "Wei",
	"Mei", "Rafael", "Beatriz", "Tomás", "Inês", "Declan", "Siobhan", "Callum",
	"Isla", "Ezra", "Naomi", "Silas", "Clara", "Jude", "Rosa", "Milo", "Vera",
	"Otis", "Lena",
}

var genLastNames = []string{
	"Hart", "Stone", "Rivers", "Knight", "Vance", "Moreau", "Lindqvist", "Okafor",
	"Nakamura", "Kowalski", "Rossi", "Fernández", "Silva", "Müller", "Jansen",
	"Dubois", "Novak", "Horvath", "Petrov", "Kim", "Chen", "Tanaka", "Singh", "Patel",
	"Haddad", "Mensah", "Adeyemi", "O'Brien", "MacLeod", "Fitzgerald", "Blackwood",
	"Winter", "Summers", "Frost", "Storm", "Fairweather", "Holloway", "Ashford",
	"Carver", "Sterling", "Sinclair", "Lockhart", "Delacroix", "Valentine", "Monroe",
	"Castillo", "Romero", "Navarro", "Bergström", "Halvorsen", "Eriksen", "Virtanen",
	"Kovač", "Dimitriou", "Papadopoulos", "Yilmaz", "Abadi", "Nair", "Reyes",
	"Santos", "Costa", "Bianchi", "Ferrari", "Lambert", "Girard", "Fontaine",
	"Schubert", "Wagner", "Becker", "Hoffmann", "Keller", "Brandt", "Hayes", "Porter",
	"Wells", "Greene", "Fox", "Lane", "Cole",
}

var genMascots = []string{
	"Lions", "Tigers", "Bears", "Wolves", "Eagles", "Hawks", "Falcons", "Ravens",
	"Sharks", "Dolphins", "Pirates", "Knights", "Kings", "Royals", "Rangers",
	"Rovers", "United", "City", "Athletic", "Wanderers", "Stallions", "Mustangs",
	"Bulls", "Rhinos", "Panthers", "Jaguars", "Cougars", "Titans", "Giants",
	"Spartans", "Vikings", "Warriors", "Thunder", "Storm", "Lightning", "Comets",
	"Rockets", "Jets", "Blazers", "Flames", "Hurricanes", "Cyclones", "Foxes",
	"Badgers", "Owls", "Stags", "Saints", "Dragons", "Griffins", "Monarchs",
}

var genShowTitles = []string{
	"Hamlet", "Macbeth", "King Lear", "Othello", "The Tempest", "Twelfth Night",
	"A Midsummer Night's Dream", "Romeo and Juliet", "Much Ado About Nothing",
	"The Cherry Orchard", "Uncle Vanya", "The Seagull", "A Doll's House",
	"Hedda Gabler", "Peer Gynt", "Death of a Salesman", "The Crucible",
	"Our Town", "Cyrano de Bergerac", "Tartuffe", "The Importance of Being Earnest",
	"Pygmalion", "Waiting for Godot", "The Glass Menagerie", "Swan Lake",
	"The Nutcracker", "Giselle", "La Bohème", "Carmen", "The Magic Flute",
	"Madama Butterfly", "La Traviata", "Don Giovanni", "Tosca", "Les Misérables",
	"The Phantom Ballroom", "Starlight Express", "The Lion Queen", "Chicago Nights",
	"West Side Serenade",
}

var genGenres = []string{
	"Jazz", "Blues", "Rock", "Folk", "Electronic", "Techno", "Hip-Hop", "Reggae",
	"Classical", "Opera", "Country", "Metal", "Punk", "Indie", "Soul", "Funk",
	"Latin", "Salsa", "Flamenco", "Fado", "K-Pop", "Afrobeats", "Gospel", "Bluegrass",
	"Film", "Comedy", "Dance", "World Music", "Chamber Music", "Piano",
}

var genTourWords = []string{
	"World Tour", "Farewell Tour", "Reunion Tour", "Live", "Acoustic Night",
	"Unplugged", "Greatest Hits Tour", "Summer Tour", "Winter Tour", "Anniversary Show",
	"In Concert", "Symphonic Night", "Club Tour", "Arena Tour", "Stadium Tour",
}
